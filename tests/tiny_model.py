"""Build a tiny sentence-transformers model locally: random weights, a vocabulary made from the corpus.

It exercises the real loading, encoding and FAISS code without any download. Its vectors mean little,
but identical texts get identical vectors and texts sharing characters land closer than unrelated ones.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_model(out: Path, texts: list[str], *, dim: int = 32, seed: int = 0) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    chars = sorted({ch for t in texts for ch in t if not ch.isspace()})
    ascii_words = [c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    vocab = SPECIAL + [c for c in dict.fromkeys(ascii_words + chars)]
    hf_dir = out / "hf"
    hf_dir.mkdir(parents=True, exist_ok=True)
    (hf_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(hf_dir / "vocab.txt"), do_lower_case=True, tokenize_chinese_chars=True)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=dim,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=dim * 2,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    word = models.Transformer(str(hf_dir), max_seq_length=512)
    get_dim = getattr(word, "get_embedding_dimension", None) or word.get_word_embedding_dimension
    pool = models.Pooling(get_dim(), pooling_mode="mean")
    model_dir = out / "tiny-st"
    SentenceTransformer(modules=[word, pool], device="cpu").save(str(model_dir))
    return model_dir
