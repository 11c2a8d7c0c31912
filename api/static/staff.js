/*
 * Staff search page for the Shanghai policy Q&A service.
 * Plain ES2019, no dependencies. Retrieved data is rendered with
 * textContent / createTextNode only.
 */
(function () {
  'use strict';

  var SECTION_SEP = ' › ';
  var STATUS_LABELS = { in_force: '现行有效', expired: '已失效', plan_ended: '规划期已结束', not_yet: '尚未生效' };

  var state = {
    agencies: [],          // from /v1/agencies
    agenciesLoaded: null,  // Promise
    selectedAgency: null,
    searchSeq: 0,
    agencySeq: 0
  };

  // ---------------------------------------------------------------------------
  // Small DOM helpers
  // ---------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) { return; }
        if (k === 'class') { node.className = v; } else { node.setAttribute(k, v === true ? '' : String(v)); }
      });
    }
    if (children !== null && children !== undefined) {
      (Array.isArray(children) ? children : [children]).forEach(function (c) {
        if (c === null || c === undefined || c === false) { return; }
        node.appendChild(typeof c === 'object' && c.nodeType ? c : document.createTextNode(String(c)));
      });
    }
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function str(v) { return (v === null || v === undefined) ? '' : String(v); }

  // ---------------------------------------------------------------------------
  // API
  // ---------------------------------------------------------------------------
  function ApiError(kind, status, message, extra) {
    this.kind = kind;           // network | rate | client | server | data
    this.status = status || 0;
    this.message = message || '';
    this.code = (extra && extra.code) || '';
    this.field = (extra && extra.field) || '';
    this.retryAfter = (extra && extra.retryAfter) || null;
  }

  function parseRetryAfter(v) {
    if (!v) { return null; }
    if (/^\s*\d+\s*$/.test(v)) { return Math.max(1, parseInt(v, 10)); }
    var when = Date.parse(v);
    return isNaN(when) ? null : Math.max(1, Math.ceil((when - Date.now()) / 1000));
  }

  async function api(path, body) {
    var opts = { headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.method = 'POST';
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    var resp;
    try {
      resp = await fetch(path, opts);
    } catch (e) {
      throw new ApiError('network');
    }
    var data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      var err = (data && data.error && typeof data.error === 'object') ? data.error : {};
      var kind = resp.status === 429 ? 'rate' : (resp.status >= 500 ? 'server' : 'client');
      throw new ApiError(kind, resp.status, str(err.message), {
        code: str(err.code), field: str(err.field),
        retryAfter: parseRetryAfter(resp.headers.get('Retry-After'))
      });
    }
    if (!data || typeof data !== 'object') { throw new ApiError('data', resp.status); }
    return data;
  }

  function errorText(err, what) {
    if (!(err instanceof ApiError)) { return '页面出现意外错误，请刷新后重试。'; }
    switch (err.kind) {
      case 'network': return '无法连接到服务器，请检查网络后重试。';
      case 'rate': return err.retryAfter ? '请求过于频繁，请在 ' + err.retryAfter + ' 秒后再试。' : '请求过于频繁，请稍后再试。';
      case 'server': return '服务暂时不可用，请稍后再试。（HTTP ' + err.status + '）';
      case 'data': return '服务返回的数据无法识别，请稍后再试。';
      default:
        if (err.status === 404) { return (what || '所请求的内容') + '不存在或已被移除。'; }
        return '请求未能完成' + (err.message ? '：' + err.message : '。') + (err.field ? '（字段：' + err.field + '）' : '');
    }
  }

  // An English question is searched through a dictionary translation; say what was searched.
  function translationNote(data) {
    var t = data && data.translation;
    return t && t.searched_as ? el('span', { class: 'mode', 'data-qa': 'translation' }, '英文问题按词典译成中文检索：' + str(t.searched_as)) : null;
  }

  // ---------------------------------------------------------------------------
  // Clause card
  // ---------------------------------------------------------------------------
  // Server offsets may be code points (Python) while JS uses UTF-16 units.
  function highlightRange(text, hl) {
    if (!hl || typeof hl !== 'object') { return null; }
    var s = Number(hl.start);
    var e = Number(hl.end);
    var want = typeof hl.text === 'string' ? hl.text : '';
    var valid = isFinite(s) && isFinite(e) && s >= 0 && e > s;
    if (valid && e <= text.length && (!want || text.slice(s, e) === want)) { return [s, e]; }
    if (valid) {
      var cps = Array.from(text);
      if (e <= cps.length) {
        var s16 = cps.slice(0, s).join('').length;
        var e16 = s16 + cps.slice(s, e).join('').length;
        if (!want || text.slice(s16, e16) === want) { return [s16, e16]; }
      }
    }
    if (want) {
      var i = text.indexOf(want);
      if (i >= 0) { return [i, i + want.length]; }
    }
    return null;
  }

  function statusBadge(ds) {
    if (!ds) { return null; }
    var code = typeof ds === 'object' ? str(ds.status) : str(ds);
    var label = (typeof ds === 'object' && ds.label) ? str(ds.label) : (STATUS_LABELS[code] || code);
    if (!label) { return null; }
    var cls = Object.prototype.hasOwnProperty.call(STATUS_LABELS, code) ? code : 'other';
    return el('span', { class: 'badge st-' + cls }, label);
  }

  // The readable clause page (never the JSON), with the quoted sentence marked.
  function clauseHref(hit) {
    var hl = hit.highlight && hit.highlight.text ? '?hl=' + encodeURIComponent(str(hit.highlight.text)) : '';
    return '/clauses/' + encodeURIComponent(str(hit.clause_id)) + hl;
  }

  function renderCard(hit, opts) {
    opts = opts || {};
    var text = str(hit.text);
    var card = el('article', { class: 'card', 'data-qa': 'clause-card' });

    var head = el('div', { class: 'card-head' });
    if (opts.showDoc !== false) {
      var title = el('h3', { class: 'card-doc' }, str(hit.doc_title) || str(hit.doc_id));
      if (hit.doc_number) { title.appendChild(el('span', { class: 'docno' }, str(hit.doc_number))); }
      head.appendChild(title);
    }
    var badge = statusBadge(hit.doc_status);
    if (badge) { head.appendChild(badge); }
    if (head.firstChild) { card.appendChild(head); }

    var path = Array.isArray(hit.section_path) ? hit.section_path.map(str).filter(Boolean) : [];
    if (path.length) { card.appendChild(el('p', { class: 'card-path' }, path.join(SECTION_SEP))); }
    if (hit.heading) { card.appendChild(el('p', { class: 'card-heading' }, str(hit.heading))); }

    var p = el('p', { class: 'card-text' });
    var range = highlightRange(text, hit.highlight);
    if (range) {
      p.appendChild(document.createTextNode(text.slice(0, range[0])));
      p.appendChild(el('mark', null, text.slice(range[0], range[1])));
      p.appendChild(document.createTextNode(text.slice(range[1])));
    } else {
      p.appendChild(document.createTextNode(text));
    }
    card.appendChild(p);

    var foot = el('div', { class: 'card-foot' });
    var agencies = Array.isArray(hit.agencies) ? hit.agencies.map(str).filter(Boolean) : [];
    if (agencies.length) {
      var chips = el('ul', { class: 'chips', 'aria-label': '责任部门' });
      agencies.forEach(function (name) {
        var chip = el('button', { type: 'button', class: 'chip', title: '查看“' + name + '”负责的全部条款' }, name);
        chip.addEventListener('click', function () { showAgencyView(name, true); });
        chips.appendChild(el('li', null, chip));
      });
      foot.appendChild(chips);
    }
    var meta = el('div', { class: 'card-meta' });
    meta.appendChild(el('a', { class: 'citation', 'data-qa': 'citation', href: clauseHref(hit) },
      str(hit.citation) || str(hit.clause_id)));
    foot.appendChild(meta);
    card.appendChild(foot);
    return card;
  }

  // ---------------------------------------------------------------------------
  // Filters: documents and agencies
  // ---------------------------------------------------------------------------
  async function loadDocuments() {
    var select = $('f-doc');
    try {
      var data = await api('/v1/documents');
      var docs = Array.isArray(data.documents) ? data.documents : [];
      var keep = select.value;
      while (select.options.length > 1) { select.remove(1); }  // reloaded after an upload
      docs.forEach(function (d) {
        var label = str(d.title) || str(d.doc_id);
        if (d.doc_number) { label += '（' + str(d.doc_number) + '）'; }
        var st = d.status && typeof d.status === 'object' ? (d.status.label || STATUS_LABELS[d.status.status]) : STATUS_LABELS[str(d.status)];
        if (st) { label += ' · ' + st; }
        select.appendChild(el('option', { value: str(d.doc_id) }, label));
      });
      var wanted = new URLSearchParams(location.search).get('doc') || keep;
      if (wanted) { select.value = wanted; }
    } catch (err) {
      showSearchError('文件列表加载失败：' + errorText(err) + ' 仍可在全部文件中检索。');
    }
  }

  function loadAgencies() {
    if (!state.agenciesLoaded) {
      state.agenciesLoaded = api('/v1/agencies').then(function (data) {
        state.agencies = Array.isArray(data.agencies) ? data.agencies.filter(function (a) { return a && a.name; }) : [];
        var dl = $('agency-options');
        clear(dl);
        state.agencies.forEach(function (a) {
          dl.appendChild(el('option', { value: str(a.name), label: str(a.full_name) || null }));
        });
        return state.agencies;
      }).catch(function (err) {
        state.agenciesLoaded = null; // allow a retry later
        throw err;
      });
    }
    return state.agenciesLoaded;
  }

  // Map whatever the user typed (short name, full name, alias, English) to the canonical name.
  function resolveAgency(input) {
    var v = str(input).trim();
    if (!v) { return ''; }
    var lower = v.toLowerCase();
    for (var i = 0; i < state.agencies.length; i++) {
      var a = state.agencies[i];
      var names = [a.name, a.full_name, a.english_name].concat(Array.isArray(a.aliases) ? a.aliases : []);
      for (var j = 0; j < names.length; j++) {
        if (names[j] && str(names[j]).toLowerCase() === lower) { return str(a.name); }
      }
    }
    return v;
  }

  // ---------------------------------------------------------------------------
  // Search view
  // ---------------------------------------------------------------------------
  function showSearchError(msg) {
    var box = $('search-error');
    box.textContent = msg;
    box.hidden = !msg;
  }

  function readForm() {
    return {
      q: $('q').value.trim(),
      doc: $('f-doc').value,
      agency: resolveAgency($('f-agency').value),
      date: $('f-date').value,
      k: parseInt($('f-topk').value, 10) || 10
    };
  }

  function syncUrl(f) {
    var params = new URLSearchParams();
    if (f.q) { params.set('q', f.q); }
    if (f.doc) { params.set('doc', f.doc); }
    if (f.agency) { params.set('agency', f.agency); }
    if (f.date) { params.set('date', f.date); }
    if (f.k !== 10) { params.set('k', String(f.k)); }
    var qs = params.toString();
    history.replaceState(null, '', location.pathname + (qs ? '?' + qs : '') + location.hash);
  }

  async function runSearch() {
    var f = readForm();
    showSearchError('');
    var results = $('results');
    var status = $('search-status');
    if (!f.q) {
      status.classList.remove('sr-only');
      status.textContent = '请输入检索内容。';
      $('q').focus();
      return;
    }
    if (f.date && !/^\d{4}-\d{2}-\d{2}$/.test(f.date)) {
      showSearchError('日期格式应为 YYYY-MM-DD。');
      $('f-date').focus();
      return;
    }
    syncUrl(f);

    var filters = {};
    if (f.doc) { filters.doc_ids = [f.doc]; }
    if (f.agency) { filters.agencies = [f.agency]; }
    if (f.date) { filters.in_force_on = f.date; }
    var body = { query: f.q, top_k: Math.min(50, Math.max(1, f.k)) };
    if (Object.keys(filters).length) { body.filters = filters; }

    var seq = ++state.searchSeq;
    // Old results go at once: what is on screen is always the answer to what is in the box.
    clear(results);
    clear($('answer-body'));
    $('answer').hidden = true;
    status.classList.remove('sr-only');
    status.textContent = '正在查找答案和相关条款…';
    results.setAttribute('aria-busy', 'true');
    var askBody = { query: f.q };
    if (f.date) { askBody.as_of = f.date; }
    var asked = api('/v1/ask', askBody).then(function (data) {
      if (seq === state.searchSeq) { renderAnswer(data, f.date); }
    }, function (err) {
      if (seq === state.searchSeq) { renderAnswerError(err); }
    });
    try {
      var data = await api('/v1/search', body);
      if (seq !== state.searchSeq) { return; }
      renderResults(data);
    } catch (err) {
      if (seq !== state.searchSeq) { return; }
      status.textContent = '';
      clear(results);
      if (err instanceof ApiError && err.code === 'unknown_agency') {
        showSearchError('没有名为“' + f.agency + '”的责任部门。请从“责任部门”的下拉列表中选择，或清除该筛选。');
        $('filters-box').open = true;
        $('f-agency').focus();
      } else {
        showSearchError(errorText(err));
      }
    } finally {
      if (seq === state.searchSeq) { results.removeAttribute('aria-busy'); }
    }
    await asked;
  }

  function renderResults(data) {
    var results = $('results');
    var status = $('search-status');
    var hits = Array.isArray(data.results) ? data.results : [];
    clear(results);

    var summary = el('h2', { class: 'summary' });
    summary.appendChild(document.createTextNode(hits.length ? '相关条款 ' + hits.length + ' 条（按相关程度排列）' : '未找到相关条款'));
    var tn = translationNote(data);
    if (tn) { summary.appendChild(tn); }
    results.appendChild(summary);
    // Announced to screen readers only; the visible summary above says the same.
    status.classList.add('sr-only');
    status.textContent = hits.length ? '检索完成，找到 ' + hits.length + ' 条相关条款。' : '检索完成，未找到相关条款。';

    if (!hits.length) {
      results.appendChild(el('p', { class: 'empty' }, '可尝试更换关键词，或放宽筛选条件（文件、部门、有效日期）。'));
      return;
    }
    var list = el('ol', { class: 'card-list' });
    hits.forEach(function (h) {
      if (h && typeof h === 'object') { list.appendChild(el('li', null, renderCard(h))); }
    });
    results.appendChild(list);
  }

  // ---------------------------------------------------------------------------
  // Answer panel (POST /v1/ask)
  // ---------------------------------------------------------------------------
  var INTENT_LABELS = {
    agency: '问的是哪个部门负责',
    support: '问的是有哪些支持措施',
    fact: '问的是政策内容'
  };
  // Why the documents do not answer, in plain words (refusal.kind from the API).
  var REFUSAL_LABELS = {
    no_match: '这些政策文件中没有回答该问题的条款。',
    other_place: '问题涉及上海以外的地区，这些文件只适用于上海市。',
    other_document: '问题问的是这些文件以外的其他文件。',
    amount_not_stated: '相关条款没有写明具体金额。',
    date_not_stated: '相关条款没有写明具体日期。',
    figure_not_stated: '相关条款没有写明具体数字或比例。',
    procedure_not_stated: '相关条款没有写明办理流程。',
    contact_not_stated: '相关条款没有写明联系电话、地址或网址。',
    agency_not_stated: '相关条款没有写明责任单位。',
    names_not_stated: '相关条款没有列出具体名单或清单内容。',
    places_not_stated: '相关条款没有列出所问的具体区域、地点或国家。',
    validity_not_stated: '该文件没有写明施行日期或有效期。',
    personal_procedure: '这是个人办事流程问题，政策文件没有涉及。',
    city_matter: '这是市级事务问题，政策文件没有涉及。',
    language: '暂时只能回答中文和英文问题。'
  };

  function clauseLink(hit, label) {
    return el('a', { class: 'citation', 'data-qa': 'citation', href: clauseHref(hit) }, label || str(hit.citation) || str(hit.clause_id));
  }

  function quoteOf(hit) {
    var text = str(hit.highlight && hit.highlight.text ? hit.highlight.text : hit.text);
    return text.length > 160 ? text.slice(0, 160) + '…' : text;
  }

  function asOfNote(day) {
    return el('p', { class: 'as-of', 'data-qa': 'as-of' }, '文件效力状态截至 ' + day + (day === todayIso() ? '（今天）' : '') + '。');
  }

  function todayIso() {
    var d = new Date();
    var m = String(d.getMonth() + 1); var dd = String(d.getDate());
    return d.getFullYear() + '-' + (m.length < 2 ? '0' + m : m) + '-' + (dd.length < 2 ? '0' + dd : dd);
  }

  function agencyItem(a, byId) {
    var name = str(a.name);
    var li = el('li', { class: 'answer-agency', 'data-qa': 'answer-agency' });
    var btn = el('button', { type: 'button', class: 'agency-link', title: '查看该部门负责的全部条款' }, str(a.full_name) || name);
    btn.addEventListener('click', function () { showAgencyView(name, true); });
    li.appendChild(btn);
    if (a.full_name && a.full_name !== name) { li.appendChild(el('span', { class: 'agency-short' }, '（简称：' + name + '）')); }
    var ids = Array.isArray(a.clause_ids) ? a.clause_ids : [];
    if (ids.length) {
      var src = el('span', { class: 'agency-sources' }, '依据：');
      ids.forEach(function (id, i) {
        var hit = byId[id] || { clause_id: id, citation: id };
        if (i) { src.appendChild(document.createTextNode('；')); }
        src.appendChild(clauseLink(hit));
      });
      li.appendChild(src);
    }
    return li;
  }

  function measureItem(hit) {
    var li = el('li', { class: 'measure', 'data-qa': 'measure' });
    var head = el('p', { class: 'measure-head' });
    head.appendChild(clauseLink(hit));
    var badge = statusBadge(hit.doc_status);
    if (badge) { head.appendChild(document.createTextNode(' ')); head.appendChild(badge); }
    li.appendChild(head);
    li.appendChild(el('blockquote', { class: 'measure-quote' }, quoteOf(hit)));
    var ag = Array.isArray(hit.agencies) ? hit.agencies.map(str).filter(Boolean) : [];
    if (ag.length) { li.appendChild(el('p', { class: 'measure-agencies' }, '责任部门：' + ag.join('、'))); }
    return li;
  }

  function renderAnswer(data, day) {
    var panel = $('answer');
    var body = $('answer-body');
    clear(body);
    panel.hidden = false;
    var cites = Array.isArray(data.citations) ? data.citations : [];
    var byId = {};
    cites.forEach(function (c) { if (c && c.clause_id) { byId[c.clause_id] = c; } });
    var asOf = day || (cites[0] && cites[0].doc_status && cites[0].doc_status.as_of) || todayIso();

    if (data.intent && INTENT_LABELS[data.intent]) {
      body.appendChild(el('p', { class: 'intent', 'data-qa': 'intent' }, INTENT_LABELS[data.intent]));
    }
    if (!data.answerable) {
      var refusal = el('div', { class: 'refusal', 'data-qa': 'refusal' });
      refusal.appendChild(el('p', { class: 'refusal-msg' }, str(data.message) || '这些政策文件不能回答这个问题。'));
      var kind = data.refusal && data.refusal.kind;
      var reason = REFUSAL_LABELS[kind] || '';
      if (reason) { refusal.appendChild(el('p', { class: 'refusal-reason' }, '原因：' + reason)); }
      body.appendChild(refusal);
      var closest = Array.isArray(data.closest) ? data.closest : [];
      if (closest.length) {
        body.appendChild(el('h3', null, '最接近的条款（不是答案，仅供参考）'));
        var cl = el('ul', { class: 'measures' });
        closest.slice(0, 3).forEach(function (h) { cl.appendChild(measureItem(h)); });
        body.appendChild(cl);
      }
      body.appendChild(asOfNote(asOf));
      return;
    }

    var agencies = Array.isArray(data.agencies) ? data.agencies : [];
    if (data.intent === 'agency' || (agencies.length && data.intent !== 'support')) {
      if (data.agencies_source === 'nearest_clause') {
        body.appendChild(el('p', { class: 'note-warn' }, '最相关的条款没有列明责任部门；下面是相近条款列明的部门。'));
      }
      var lead = agencies.filter(function (a) { return a.lead; });
      var others = agencies.filter(function (a) { return !a.lead; });
      if (lead.length) {
        body.appendChild(el('h3', null, '牵头部门'));
        var ll = el('ul', { class: 'answer-agencies' });
        lead.forEach(function (a) { ll.appendChild(agencyItem(a, byId)); });
        body.appendChild(ll);
      }
      if (others.length) {
        body.appendChild(el('h3', null, lead.length ? '其他责任部门' : '责任部门'));
        var ol = el('ul', { class: 'answer-agencies' });
        others.forEach(function (a) { ol.appendChild(agencyItem(a, byId)); });
        body.appendChild(ol);
      }
      if (cites.length) {
        body.appendChild(el('h3', null, '依据条款'));
        var cl2 = el('ul', { class: 'measures' });
        cites.slice(0, 2).forEach(function (h) { cl2.appendChild(measureItem(h)); });
        body.appendChild(cl2);
      }
    } else if (cites.length) {
      body.appendChild(el('h3', null, data.intent === 'support' ? '可参考的支持措施' : '相关规定'));
      var ml = el('ul', { class: 'measures' });
      cites.slice(0, data.intent === 'support' ? 5 : 3).forEach(function (h) { ml.appendChild(measureItem(h)); });
      body.appendChild(ml);
      if (data.intent === 'support' && cites.some(function (h) { return h.doc_status && h.doc_status.status !== 'in_force'; })) {
        body.appendChild(el('p', { class: 'note-warn' }, '标为“已失效”或“规划期已结束”的措施所在文件已不再有效，请核实是否仍在执行。'));
      }
    } else {
      body.appendChild(el('p', null, str(data.answer)));
    }
    var tn = translationNote(data);
    if (tn) { body.appendChild(el('p', null, tn)); }
    body.appendChild(asOfNote(asOf));
  }

  function renderAnswerError(err) {
    var panel = $('answer');
    var body = $('answer-body');
    clear(body);
    panel.hidden = false;
    body.appendChild(el('p', { class: 'error-box', role: 'alert' }, '答案暂时无法生成：' + errorText(err) + ' 下面的条款检索结果仍可参考。'));
  }

  // ---------------------------------------------------------------------------
  // Add documents (administrators): POST /v1/admin/documents
  // ---------------------------------------------------------------------------
  var UPLOAD_STATUS = { added: '已添加', updated: '已更新', unchanged: '未变化（相同文件已在库中）', error: '失败' };

  async function upload(ev) {
    ev.preventDefault();
    var key = $('admin-key').value;
    var files = $('admin-files').files;
    var status = $('upload-status');
    var errBox = $('upload-error');
    var report = $('upload-report');
    errBox.hidden = true;
    clear(report);
    if (!key) { errBox.textContent = '请输入管理员密钥。'; errBox.hidden = false; $('admin-key').focus(); return; }
    if (!files || !files.length) { errBox.textContent = '请选择至少一个文件。'; errBox.hidden = false; $('admin-files').focus(); return; }
    var form = new FormData();
    Array.prototype.forEach.call(files, function (f) { form.append('files', f, f.name); });
    status.textContent = '正在上传并重建索引，可能需要一分钟…';
    var resp; var data = null;
    try {
      resp = await fetch('/v1/admin/documents', { method: 'POST', headers: { 'X-API-Key': key, Accept: 'application/json' }, body: form });
      try { data = await resp.json(); } catch (e) { data = null; }
    } catch (e) {
      status.textContent = '';
      errBox.textContent = '无法连接到服务器，请检查网络后重试。';
      errBox.hidden = false;
      return;
    }
    status.textContent = '';
    if (!resp.ok) {
      var e = data && data.error ? data.error : {};
      var why = resp.status === 401 ? '管理员密钥不正确。' : resp.status === 403 ? '服务未启用管理功能（未设置 QA_ADMIN_API_KEY）。' :
        resp.status === 413 ? '文件太大。' : (str(e.message) || ('HTTP ' + resp.status));
      errBox.textContent = '未添加任何文件：' + why;
      errBox.hidden = false;
      return;
    }
    var docs = data && Array.isArray(data.documents) ? data.documents : [];
    status.textContent = '处理完成：' + docs.length + ' 个文件' + (data.reindexed ? '，索引已更新' : '') + '。';
    var table = el('table', { class: 'report', 'data-qa': 'upload-report' });
    table.appendChild(el('caption', null, '处理报告'));
    var head = el('tr');
    ['文件', '编号', '结果', '条款数', '责任单位标注', '提示'].forEach(function (h) { head.appendChild(el('th', { scope: 'col' }, h)); });
    table.appendChild(el('thead', null, head));
    var tb = el('tbody');
    docs.forEach(function (d) {
      var tr = el('tr');
      var notes = [].concat(Array.isArray(d.warnings) ? d.warnings : [], d.error ? [d.error] : []).map(str).join('；');
      [str(d.file), str(d.doc_id), UPLOAD_STATUS[d.status] || str(d.status), str(d.clauses), str(d.agency_notes_found), notes || '—']
        .forEach(function (v, i) {
          var cell = i === 2 ? el('td', null, v) : el('td', null, v);
          if (i === 1 && d.status !== 'error' && d.doc_id) {
            clear(cell);
            cell.appendChild(el('a', { href: '/?doc=' + encodeURIComponent(str(d.doc_id)) }, str(d.doc_id)));
          }
          tr.appendChild(cell);
        });
      tb.appendChild(tr);
    });
    table.appendChild(tb);
    report.appendChild(table);
    loadDocuments();
  }

  function restoreFromUrl() {
    var params = new URLSearchParams(location.search);
    if (params.get('q')) { $('q').value = params.get('q'); }
    if (params.get('agency')) { $('f-agency').value = params.get('agency'); }
    if (params.get('date')) { $('f-date').value = params.get('date'); }
    var k = params.get('k');
    if (k && $('f-topk').querySelector('option[value="' + String(parseInt(k, 10)) + '"]')) { $('f-topk').value = String(parseInt(k, 10)); }
    return !!params.get('q');
  }

  // ---------------------------------------------------------------------------
  // Tabs
  // ---------------------------------------------------------------------------
  var TABS = [
    { tab: 'tab-search', panel: 'panel-search', hash: '#search' },
    { tab: 'tab-agencies', panel: 'panel-agencies', hash: '#agencies' },
    { tab: 'tab-admin', panel: 'panel-admin', hash: '#add' }
  ];

  function selectTab(index, focusTab) {
    TABS.forEach(function (t, i) {
      var on = i === index;
      var tab = $(t.tab);
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      $(t.panel).hidden = !on;
      if (on && focusTab) { tab.focus(); }
    });
    if (index === 1) { renderAgencyList(); }
  }

  function setupTabs() {
    TABS.forEach(function (t, i) {
      var tab = $(t.tab);
      tab.addEventListener('click', function () {
        selectTab(i, false);
        history.replaceState(null, '', location.pathname + location.search + (i === 1 && state.selectedAgency ? agencyHash(state.selectedAgency) : t.hash));
      });
      tab.addEventListener('keydown', function (ev) {
        var next = null;
        if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') { next = (i + 1) % TABS.length; }
        else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') { next = (i - 1 + TABS.length) % TABS.length; }
        else if (ev.key === 'Home') { next = 0; }
        else if (ev.key === 'End') { next = TABS.length - 1; }
        if (next !== null) {
          ev.preventDefault();
          selectTab(next, true);
          history.replaceState(null, '', location.pathname + location.search + TABS[next].hash);
        }
      });
    });
  }

  // ---------------------------------------------------------------------------
  // Agency view
  // ---------------------------------------------------------------------------
  function agencyHash(name) { return '#agency=' + encodeURIComponent(name); }

  function agencyMatches(a, needle) {
    if (!needle) { return true; }
    var hay = [a.name, a.full_name, a.english_name].concat(Array.isArray(a.aliases) ? a.aliases : []);
    return hay.some(function (h) { return h && str(h).toLowerCase().indexOf(needle) >= 0; });
  }

  async function renderAgencyList() {
    var list = $('agency-list');
    var status = $('agency-list-status');
    if (!state.agencies.length) {
      status.textContent = '正在加载部门列表…';
      try {
        await loadAgencies();
      } catch (err) {
        status.textContent = '部门列表加载失败：' + errorText(err);
        return;
      }
    }
    var needle = $('agency-filter').value.trim().toLowerCase();
    clear(list);
    var shown = 0;
    state.agencies.forEach(function (a) {
      if (!agencyMatches(a, needle)) { return; }
      shown++;
      var name = str(a.name);
      var btn = el('button', { type: 'button', class: 'agency-item', 'aria-current': state.selectedAgency === name ? 'true' : null }, [
        el('span', { class: 'agency-name' }, name),
        el('span', { class: 'agency-count' }, str(a.clause_count === undefined ? '' : a.clause_count) + ' 条'),
        (a.full_name && a.full_name !== name) ? el('span', { class: 'agency-full' }, str(a.full_name)) : null
      ]);
      btn.addEventListener('click', function () { showAgency(name, true); });
      list.appendChild(el('li', null, btn));
    });
    status.textContent = shown ? '共 ' + shown + ' 个部门' : '没有匹配的部门';
  }

  function showAgencyView(name, focus) {
    selectTab(1, false);
    showAgency(name, focus);
  }

  async function showAgency(name, focus) {
    state.selectedAgency = name;
    history.replaceState(null, '', location.pathname + location.search + agencyHash(name));
    Array.prototype.forEach.call($('agency-list').querySelectorAll('.agency-item'), function (b) {
      var n = b.querySelector('.agency-name');
      if (n && n.textContent === name) { b.setAttribute('aria-current', 'true'); } else { b.removeAttribute('aria-current'); }
    });

    var detail = $('agency-detail');
    var seq = ++state.agencySeq;
    clear(detail);
    detail.appendChild(el('p', { class: 'status' }, '正在加载“' + name + '”负责的条款…'));
    detail.setAttribute('aria-busy', 'true');
    var data;
    try {
      data = await api('/v1/agencies/' + encodeURIComponent(name));
    } catch (err) {
      if (seq !== state.agencySeq) { return; }
      clear(detail);
      detail.removeAttribute('aria-busy');
      detail.appendChild(el('div', { class: 'error-box', role: 'alert' }, errorText(err, '部门“' + name + '”')));
      return;
    }
    if (seq !== state.agencySeq) { return; }
    detail.removeAttribute('aria-busy');
    renderAgencyDetail(data, name);
    if (focus) { detail.focus(); }
  }

  function renderAgencyDetail(data, fallbackName) {
    var detail = $('agency-detail');
    clear(detail);
    var a = (data.agency && typeof data.agency === 'object') ? data.agency : { name: fallbackName };
    var docs = Array.isArray(data.documents) ? data.documents : [];
    var total = docs.reduce(function (n, d) { return n + (Array.isArray(d.clauses) ? d.clauses.length : 0); }, 0);

    var head = el('div', { class: 'agency-head' });
    head.appendChild(el('h2', null, str(a.full_name) || str(a.name) || fallbackName));
    var facts = el('dl', { class: 'agency-facts' });
    function fact(k, v, lang) {
      if (!v) { return; }
      facts.appendChild(el('dt', null, k));
      facts.appendChild(el('dd', { lang: lang || null }, v));
    }
    fact('简称', str(a.name));
    fact('英文名称', str(a.english_name), 'en');
    if (Array.isArray(a.aliases) && a.aliases.length) { fact('其他名称', a.aliases.map(str).join('、')); }
    fact('负责条款', total + ' 条，涉及 ' + docs.length + ' 份文件');
    head.appendChild(facts);

    var filterBtn = el('button', { type: 'button', class: 'btn btn-secondary' }, '在条款检索中按此部门筛选');
    filterBtn.addEventListener('click', function () {
      $('f-agency').value = str(a.name) || fallbackName;
      selectTab(0, false);
      history.replaceState(null, '', location.pathname + location.search + '#search');
      $('q').focus();
    });
    head.appendChild(filterBtn);
    detail.appendChild(head);

    if (!docs.length) {
      detail.appendChild(el('p', { class: 'empty' }, '暂未找到该部门负责的条款。'));
      return;
    }
    docs.forEach(function (d) {
      var clauses = Array.isArray(d.clauses) ? d.clauses : [];
      var sec = el('section', { class: 'doc-group' });
      var h = el('h3', { class: 'doc-group-title' }, str(d.doc_title) || str(d.doc_id));
      if (d.doc_number) { h.appendChild(el('span', { class: 'docno' }, str(d.doc_number))); }
      h.appendChild(el('span', { class: 'doc-count' }, clauses.length + ' 条'));
      sec.appendChild(h);
      var list = el('ol', { class: 'card-list' });
      clauses.forEach(function (c) {
        if (c && typeof c === 'object') { list.appendChild(el('li', null, renderCard(c, { showDoc: false }))); }
      });
      sec.appendChild(list);
      detail.appendChild(sec);
    });
  }

  // ---------------------------------------------------------------------------
  // Start-up
  // ---------------------------------------------------------------------------
  function init() {
    setupTabs();

    $('search-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      runSearch();
    });
    $('f-reset').addEventListener('click', function () {
      $('f-doc').value = '';
      $('f-agency').value = '';
      $('f-date').value = '';
      $('f-topk').value = '10';
      syncUrl(readForm());
      $('f-doc').focus();
    });
    $('agency-filter').addEventListener('input', function () { renderAgencyList(); });
    $('upload-form').addEventListener('submit', upload);
    // Filters stay folded on narrow screens so the results come first; open on wide ones.
    var wide = window.matchMedia('(min-width: 48rem)');
    var box = $('filters-box');
    var hasFilter = !!(new URLSearchParams(location.search).get('doc') || new URLSearchParams(location.search).get('agency') || new URLSearchParams(location.search).get('date'));
    box.open = wide.matches || hasFilter;

    var hasQuery = restoreFromUrl();
    var docsReady = loadDocuments();
    loadAgencies().catch(function () { /* reported when the agency tab opens */ });

    var hash = location.hash;
    if (hash.indexOf('#agency=') === 0) {
      var name = '';
      try { name = decodeURIComponent(hash.slice('#agency='.length)); } catch (e) { name = ''; }
      if (name) { showAgencyView(name, false); } else { selectTab(1, false); }
    } else if (hash === '#agencies') {
      selectTab(1, false);
    } else if (hash === '#add') {
      selectTab(2, false);
    }
    if (hasQuery) { docsReady.then(runSearch); }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
