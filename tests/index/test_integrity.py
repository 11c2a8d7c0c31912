"""A damaged index never serves: every file of a saved version, damaged in several ways, makes the service
load the previous good version and say so in /readyz; with no good version left it rebuilds."""

import json
import os
import shutil
from pathlib import Path

import pytest

from policyqa.api.service import QAService
from policyqa.index import store
from policyqa.index.store import (
    IndexCorrupt,
    load_index,
    load_index_or_fallback,
    save_index,
    verify_version,
)
from policyqa.qa.engine import Engine, EngineConfig

# the files of a lexical version (bm25s writes these per keyword leg) — checked against what save_index
# writes, so a new file is never left out of this list
LEG_FILES = ["backend.json", "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "params.index.json", "vocab.index.json",
             # each passage's tokens, kept for a staged document add (index/backends.py)
             "tokens-ids.npy", "tokens-indptr.npy", "tokens-vocab.json"]
FILES = (
    ["manifest.json"]
    + [f"bm25-{leg}/{f}" for leg in ("jieba", "bigram") for f in LEG_FILES]
    + [f"clause-tokens/{f}" for f in ("vocab.json", "indptr.npy", "ids.npy")]
    + [f"passages/{f}" for f in ("start.npy", "end.npy")]
)


def truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def empty(p: Path) -> None:
    p.write_bytes(b"")


def flip(p: Path) -> None:
    """One byte in the middle changed: same size, still parseable in most formats."""
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))


def delete(p: Path) -> None:
    p.unlink()


def garbage(p: Path) -> None:
    p.write_bytes(os.urandom(max(64, p.stat().st_size)))


CORRUPTIONS = {"truncate": truncate, "empty": empty, "flip-byte": flip, "delete": delete, "garbage": garbage}
CASES = [pytest.param(f, c, id=f"{f}-{c}") for f in FILES for c in CORRUPTIONS]


def _edit_manifest(version: Path, change) -> None:
    """A manifest that is valid JSON but says something else than what was written."""
    m = json.loads((version / "manifest.json").read_text())
    change(m)
    (version / "manifest.json").write_text(json.dumps(m))


def _wrong_format(version: Path) -> None:
    """Valid JSON with a correct self-hash, but another format (an index written by other code)."""
    def change(m):
        m["format"] = store.FORMAT_VERSION + 1
        m[store._SELF_HASH] = store._manifest_hash(m)
    _edit_manifest(version, change)


def _manifest_edited(version: Path) -> None:
    _edit_manifest(version, lambda m: m["passage_ids"].reverse())


def _checksum_edited(version: Path) -> None:
    """A file's listed checksum changed (with the manifest's own hash left alone)."""
    def change(m):
        first = next(iter(m["files"]))
        m["files"][first]["sha256"] = "0" * 64
    _edit_manifest(version, change)


def _version_deleted(version: Path) -> None:
    shutil.rmtree(version)


def _leg_deleted(version: Path) -> None:
    shutil.rmtree(version / "bm25-bigram")


def _link_deleted(version: Path) -> None:
    (version.parent / "current").unlink()


WHOLE = {
    "manifest-wrong-format": _wrong_format,
    "manifest-edited": _manifest_edited,
    "manifest-checksum-edited": _checksum_edited,
    "version-folder-deleted": _version_deleted,
    "leg-folder-deleted": _leg_deleted,
    "current-link-deleted": _link_deleted,
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, lexical_bundle):
    """Two good versions: the service must fall back from the newer to the older."""
    root = tmp_path_factory.mktemp("pristine")
    older = save_index(lexical_bundle, root)
    newer = save_index(lexical_bundle, root)
    assert older != newer and (root / "current").resolve() == newer
    return root


@pytest.fixture
def index(pristine, tmp_path):
    root = tmp_path / "index"
    shutil.copytree(pristine, root, symlinks=True)
    olds = store.versions(root)
    return root, olds[0], olds[1]


def _service(root: Path) -> QAService:
    cfg = EngineConfig(corpus_dir=Path(store.__file__).resolve().parents[1] / "corpus", index_dir=root, mode="lexical", translate_english=False)
    svc = QAService(Engine(cfg), watch_seconds=0)
    svc.warm_up()
    return svc


def test_the_manifest_lists_every_file_written(pristine):
    version = (pristine / "current").resolve()
    listed = set(json.loads((version / "manifest.json").read_text())["files"])
    on_disk = {p.relative_to(version).as_posix() for p in version.rglob("*") if p.is_file()}
    assert listed == on_disk - {"manifest.json"}
    assert sorted(on_disk) == sorted(FILES)


@pytest.mark.parametrize(("name", "corruption"), CASES)
def test_each_damaged_file_is_detected_and_the_previous_version_serves(index, corpus, name, corruption):
    root, older, newer = index
    CORRUPTIONS[corruption](newer / name)
    with pytest.raises(IndexCorrupt) as exc:
        load_index(root, corpus)
    assert exc.value.version == newer.name
    bundle = load_index_or_fallback(root, corpus)
    assert bundle.path == older and bundle.fallback.bad_version == newer.name
    assert bundle.keyword["jieba"].search("家政", 3)[0].size


@pytest.mark.parametrize("case", list(WHOLE))
def test_each_damaged_version_is_detected_and_the_previous_version_serves(index, corpus, case):
    root, older, newer = index
    WHOLE[case](newer)
    bundle = load_index_or_fallback(root, corpus)
    # with only the link gone, the newest version on disk is intact and serves
    assert bundle.path == (newer if case == "current-link-deleted" else older)
    assert bundle.fallback is not None and bundle.fallback.action == "previous_version"


@pytest.mark.parametrize(
    ("name", "corruption"),
    [("manifest.json", "garbage"), ("bm25-jieba/data.csc.index.npy", "flip-byte"), ("bm25-bigram/vocab.index.json", "truncate"), ("bm25-jieba/indptr.csc.index.npy", "delete")],
)
def test_the_service_serves_the_previous_version_and_says_so(index, name, corruption):
    root, older, newer = index
    CORRUPTIONS[corruption](newer / name)
    svc = _service(root)
    ready = svc.ready()
    assert ready["status"] == "degraded"
    assert ready["version"] == older.name
    assert ready["index_fallback"]["from"] == newer.name and ready["index_fallback"]["action"] == "previous_version"
    assert name.split("/")[-1] in ready["index_fallback"]["reason"]
    assert (root / "current").resolve() == newer  # the damaged version is left for inspection, not hidden
    assert svc.engine.loaded.searcher.search("社区养老上门服务", top_k=3).hits


def test_with_no_good_version_left_the_service_rebuilds_and_says_so(index):
    root, older, newer = index
    flip(older / "bm25-jieba/data.csc.index.npy")
    truncate(newer / "bm25-bigram/data.csc.index.npy")
    svc = _service(root)
    ready = svc.ready()
    assert ready["status"] == "degraded"
    assert ready["index_fallback"]["action"] == "rebuilt" and ready["index_fallback"]["from"] == newer.name
    assert ready["version"] not in (older.name, newer.name)
    assert (root / "current").resolve().name == ready["version"]
    verify_version(root / ready["version"])


def test_a_good_index_is_ready_not_degraded(index):
    root, _, newer = index
    ready = _service(root).ready()
    assert ready["status"] == "ready" and ready["version"] == newer.name
    assert ready["index_fallback"] is None and ready["documents_failed"] == []


def test_versions_kept_is_a_setting(lexical_bundle, tmp_path):
    for _ in range(5):
        save_index(lexical_bundle, tmp_path, keep=4)
    assert len(store.versions(tmp_path)) == 4
    save_index(lexical_bundle, tmp_path, keep=2)
    assert len(store.versions(tmp_path)) == 2
