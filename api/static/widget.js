/*!
 * Shanghai policy Q&A: embeddable chat widget.
 *
 * Usage on any page:
 *   <script src="https://HOST/widget.js" data-lang="zh" async></script>
 * Optional attributes:
 *   data-lang="zh|en"          interface language (default zh)
 *   data-title="..."           panel title
 *   data-position="right|left" corner (default right)
 *   data-api="https://..."     API base (default: origin of this script's src)
 *   data-contact-text="..."    who to contact when the documents do not answer (default: the
 *   data-contact-url="tel:..." service's /v1/config, i.e. QA_CONTACT_TEXT / QA_CONTACT_URL: 12345)
 *   data-large-text="true"     start with large text (visitors can switch it in the panel)
 *
 * Everything is rendered inside an open Shadow DOM. Retrieved data is only ever
 * inserted with textContent / createTextNode, never parsed as HTML.
 * The only global is window.PolicyQAWidget = {open(), close(), ask(text)}.
 * Plain ES2019, no dependencies.
 */
(function () {
  'use strict';

  if (window.PolicyQAWidget) { return; } // loaded twice: keep the first instance

  // ----------------------------------------------------------------------------
  // Interface strings (one dictionary)
  // ----------------------------------------------------------------------------
  var I18N = {
    zh: {
      htmlLang: 'zh-CN',
      launcher: '政策问答',
      title: '上海市政策问答',
      close: '关闭',
      closeLabel: '关闭政策问答窗口',
      logLabel: '对话记录',
      inputLabel: '输入您的问题',
      placeholder: '例如：哪个部门负责引进优质企业？',
      send: '发送',
      welcome: '您好！我可以根据上海市政府政策文件回答问题，并给出条款出处。',
      disclaimer: '回答依据政策原文自动生成，仅供参考，请以原文为准。',
      you: '您的问题：',
      answerPrefix: '回答：',
      loading: '正在查找…',
      agencies: '负责部门',
      citations: '依据条款',
      closestLabel: '以下条款可能相关，但不能回答您的问题',
      noAnswer: '抱歉，现有政策文件中没有找到能回答该问题的内容。',
      answerFallback: '请参阅以下条款。',
      contactLead: '如需进一步帮助，请联系',
      largeText: '大字',
      largeTextLabel: '大字模式',
      helpfulQ: '这个回答有帮助吗？',
      helpfulYes: '有帮助',
      helpfulNo: '没有帮助',
      helpfulThanks: '谢谢您的反馈。',
      helpfulFailed: '反馈未能提交，请稍后再试。',
      translated: '英文问题按词典译成这些中文词检索：',
      sectionSep: ' › ',
      expand: '展开全文',
      collapse: '收起',
      newWindow: '（在新窗口中打开条款原文）',
      errNetwork: '网络连接失败，请检查网络后重试。',
      errTimeout: '请求超时，请稍后再试。',
      errRate: '请求过于频繁，请稍后再试。',
      errRateSeconds: '请求过于频繁，请在 {n} 秒后再试。',
      errServer: '服务暂时不可用，请稍后再试。',
      errBad: '无法处理该问题',
      errBadData: '服务返回的数据无法识别，请稍后再试。',
      colon: '：',
      status: { in_force: '现行有效', expired: '已失效', plan_ended: '规划期已结束', not_yet: '尚未生效' }
    },
    en: {
      htmlLang: 'en',
      launcher: 'Policy Q&A',
      title: 'Shanghai Policy Q&A',
      close: 'Close',
      closeLabel: 'Close the policy Q&A window',
      logLabel: 'Conversation',
      inputLabel: 'Type your question',
      placeholder: 'e.g. Which agency is responsible for attracting companies?',
      send: 'Send',
      welcome: 'Hello! I answer questions from Shanghai government policy documents and cite the clauses I rely on. Documents are in Chinese.',
      disclaimer: 'Answers are generated automatically from the policy texts and are for reference only; the original text prevails.',
      you: 'Your question: ',
      answerPrefix: 'Answer: ',
      loading: 'Searching…',
      agencies: 'Responsible agencies',
      citations: 'Sources',
      closestLabel: 'These clauses may be related, but they do not answer your question',
      noAnswer: 'Sorry, the policy documents do not contain an answer to this question.',
      answerFallback: 'Please see the clauses below.',
      contactLead: 'For further help, contact ',
      largeText: 'Larger text',
      largeTextLabel: 'Larger text',
      helpfulQ: 'Was this answer helpful?',
      helpfulYes: 'Yes',
      helpfulNo: 'No',
      helpfulThanks: 'Thank you for your feedback.',
      helpfulFailed: 'Your feedback could not be sent. Please try again later.',
      enQuoteLabel: 'The Chinese text these points rest on (authoritative):',
      translated: 'Searched in the Chinese documents as: ',
      sectionSep: ' › ',
      expand: 'Show full text',
      collapse: 'Show less',
      newWindow: '(opens the clause in a new window)',
      errNetwork: 'Network error. Please check your connection and try again.',
      errTimeout: 'The request timed out. Please try again later.',
      errRate: 'Too many requests. Please try again later.',
      errRateSeconds: 'Too many requests. Please try again in {n} seconds.',
      errServer: 'The service is temporarily unavailable. Please try again later.',
      errBad: 'This question could not be processed',
      errBadData: 'The service returned an unexpected response. Please try again later.',
      colon: ': ',
      status: { in_force: 'In force', expired: 'Expired', plan_ended: 'Plan period ended', not_yet: 'Not yet in force' }
    }
  };

  var REQUEST_TIMEOUT_MS = 30000;
  var EXCERPT_LIMIT = 160;   // clause texts longer than this start collapsed
  var EXCERPT_CONTEXT = 50;  // characters kept around the highlighted sentence

  // ----------------------------------------------------------------------------
  // Configuration from the <script> tag
  // ----------------------------------------------------------------------------
  function findOwnScript() {
    var cur = document.currentScript;
    if (cur && cur.src) { return cur; }
    var scripts = document.getElementsByTagName('script');
    for (var i = scripts.length - 1; i >= 0; i--) {
      var src = scripts[i].getAttribute('src') || '';
      if (/(^|\/)widget\.js([?#]|$)/.test(src)) { return scripts[i]; }
    }
    return null;
  }

  function httpUrl(value, relativeTo) {
    try {
      var u = new URL(value, relativeTo);
      if (u.protocol === 'http:' || u.protocol === 'https:') { return u; }
    } catch (e) { /* ignore */ }
    return null;
  }

  // Only links that cannot run code: tel:, mailto:, http(s):.
  function safeLink(value) {
    var v = String(value || '').trim();
    if (/^(tel:|mailto:)[^\s<>"]+$/i.test(v)) { return v; }
    var u = httpUrl(v, location.href);
    return u ? u.href : null;
  }

  function readConfig(script) {
    var ds = (script && script.dataset) || {};
    var lang = String(ds.lang || 'zh').toLowerCase().indexOf('en') === 0 ? 'en' : 'zh';
    var scriptUrl = script ? httpUrl(script.src, location.href) : null;
    var base = null;
    if (ds.api) {
      var u = httpUrl(ds.api, scriptUrl ? scriptUrl.href : location.href);
      if (u) { base = (u.origin + u.pathname).replace(/\/+$/, ''); }
    }
    if (!base) { base = scriptUrl ? scriptUrl.origin : location.origin; }
    var contactUrl = ds.contactUrl ? safeLink(String(ds.contactUrl)) : null;
    return {
      lang: lang,
      contactText: ds.contactText ? String(ds.contactText).trim() : '',
      contactUrl: contactUrl,
      largeText: ds.largeText === 'true' || ds.largeText === '',
      t: I18N[lang],
      title: (ds.title && String(ds.title).trim()) || I18N[lang].title,
      position: ds.position === 'left' ? 'left' : 'right',
      base: base
    };
  }

  var cfg = readConfig(findOwnScript());
  var t = cfg.t;

  // ----------------------------------------------------------------------------
  // Styles (static text, no data). :host { all: initial } blocks inheritance
  // from the host page; !important lets it win against the page's own
  // !important rules that match the host element.
  // ----------------------------------------------------------------------------
  var CSS = [
    ':host { all: initial !important; display: block !important; }',
    '[hidden] { display: none !important; }',
    '.root, .root * { box-sizing: border-box; }',
    '.root {',
    '  font-family: system-ui, -apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Segoe UI", Roboto, Arial, sans-serif;',
    '  font-size: 16px; font-size: max(1rem, 16px);',
    '  line-height: 1.55; color: #1f2328; text-align: left; letter-spacing: normal; word-spacing: normal;',
    '  font-weight: 400; font-style: normal; text-transform: none; direction: ltr;',
    '  overflow-wrap: break-word; overflow-wrap: anywhere; word-break: normal;',
    '  -webkit-text-size-adjust: 100%; text-size-adjust: 100%;',
    '}',
    'button, input { font: inherit; color: inherit; margin: 0; letter-spacing: inherit; text-transform: none; }',
    'a { color: #0b5394; text-decoration: underline; text-underline-offset: 0.15em; }',
    'a:hover { color: #073763; }',
    ':focus { outline: 0.1875em solid #c05d00; outline-offset: 0.125em; }',
    ':focus:not(:focus-visible) { outline: none; }',
    ':focus-visible { outline: 0.1875em solid #c05d00; outline-offset: 0.125em; }',
    'input:focus, input:focus-visible { outline: 0.1875em solid #c05d00; outline-offset: 0.0625em; }',
    '.sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; border: 0; }',

    /* launcher */
    '.launcher {',
    '  position: fixed; bottom: 1.25em; z-index: 2147483000;',
    '  display: inline-flex; align-items: center; gap: 0.5em;',
    '  min-height: 3em; padding: 0.7em 1.15em; border: 0.125em solid #ffffff; border-radius: 999em;',
    '  background: #0b5394; color: #ffffff; font-size: 1em; font-weight: 600; line-height: 1.2;',
    '  cursor: pointer; box-shadow: 0 0.25em 1em rgba(0, 0, 0, 0.25);',
    '}',
    '.launcher:hover { background: #073763; }',
    '.launcher svg { width: 1.35em; height: 1.35em; flex: none; }',
    '.pos-right .launcher { right: 1.25em; }',
    '.pos-left .launcher { left: 1.25em; }',

    /* panel */
    '.panel {',
    '  position: fixed; bottom: 5.25em; z-index: 2147483001;',
    '  display: flex; flex-direction: column;',
    '  width: 26em; max-width: calc(100vw - 2.5em);',
    '  height: 38em; max-height: calc(100vh - 7em);',
    '  background: #ffffff; color: #1f2328;',
    '  border: 1px solid #8c959f; border-radius: 0.75em; overflow: hidden;',
    '  box-shadow: 0 0.5em 2em rgba(0, 0, 0, 0.3);',
    '}',
    '.pos-right .panel { right: 1.25em; }',
    '.pos-left .panel { left: 1.25em; }',
    '.header { display: flex; align-items: center; gap: 0.5em; padding: 0.6em 0.6em 0.6em 1em; background: #0b5394; color: #ffffff; flex: none; }',
    '.header h2 { flex: 1 1 auto; min-width: 0; margin: 0; font-size: 1.05em; font-weight: 700; line-height: 1.3; color: #ffffff; }',
    '.close { flex: none; display: inline-flex; align-items: center; justify-content: center; min-width: 2.75em; min-height: 2.75em; padding: 0 0.6em; border: 0.0625em solid rgba(255,255,255,0.7); border-radius: 0.4em; background: transparent; color: #ffffff; cursor: pointer; font-size: 0.9em; }',
    '.close:hover { background: #073763; }',
    '.header :focus-visible, .header :focus { outline-color: #ffdd00; }',
    '.header :focus:not(:focus-visible) { outline: none; }',

    /* message log */
    '.log { position: relative; flex: 1 1 auto; min-height: 0; overflow-y: auto; overflow-x: hidden; padding: 1em; background: #f6f8fa; }',
    '.msg { margin: 0 0 0.9em; max-width: 100%; }',
    '.bubble { display: inline-block; max-width: 100%; padding: 0.6em 0.85em; border-radius: 0.75em; white-space: pre-wrap; }',
    '.msg-user { text-align: right; }',
    '.msg-user .bubble { background: #0b5394; color: #ffffff; border-bottom-right-radius: 0.2em; text-align: left; max-width: 88%; }',
    '.msg-bot .bubble { background: #ffffff; color: #1f2328; border: 1px solid #d0d7de; border-bottom-left-radius: 0.2em; }',
    '.msg-info .bubble { background: #ffffff; color: #1f2328; border: 1px solid #d0d7de; }',
    '.answer { font-size: 1em; }',
    '.notice { display: block; background: #fff8e6; color: #4d3300; border: 1px solid #b7791f; border-left-width: 0.3em; border-radius: 0.4em; padding: 0.6em 0.85em; white-space: pre-wrap; }',
    '.error { display: block; background: #fdecea; color: #7a1414; border: 1px solid #c62828; border-left-width: 0.3em; border-radius: 0.4em; padding: 0.6em 0.85em; }',
    '.loading { display: inline-flex; align-items: center; gap: 0.5em; color: #444c56; }',
    '.dots { display: inline-flex; gap: 0.2em; }',
    '.dots i { width: 0.4em; height: 0.4em; border-radius: 50%; background: #57606a; animation: pqa-blink 1.2s infinite ease-in-out; }',
    '.dots i:nth-child(2) { animation-delay: 0.2s; } .dots i:nth-child(3) { animation-delay: 0.4s; }',
    '@keyframes pqa-blink { 0%, 80%, 100% { opacity: 0.25; } 40% { opacity: 1; } }',
    '.label { margin: 0.8em 0 0.4em; font-size: 0.875em; font-weight: 700; color: #3b434b; }',
    '.label-closest { color: #5c3d00; }',
    '.agencies { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.35em; }',
    '.agency { display: inline-block; max-width: 100%; padding: 0.2em 0.6em; border-radius: 999em; background: #e7f0fa; color: #0b3d6e; border: 1px solid #9cbce0; font-size: 0.875em; }',
    '.agency .en { color: #3b434b; }',
    '.mode { margin: 0.5em 0 0; font-size: 0.75em; color: #57606a; }',

    /* clause cards */
    '.cards { list-style: none; margin: 0; padding: 0; }',
    '.card { margin: 0 0 0.6em; padding: 0.7em 0.8em; background: #ffffff; border: 1px solid #d0d7de; border-radius: 0.5em; font-size: 0.9375em; }',
    '.card-closest { background: #fbfbfb; border-style: dashed; border-color: #8c959f; }',
    '.card-doc { margin: 0; font-weight: 700; color: #1f2328; line-height: 1.4; }',
    '.card-docno { font-weight: 400; color: #444c56; }',
    '.card-path { margin: 0.15em 0 0; font-size: 0.875em; color: #444c56; }',
    '.card-heading { font-weight: 600; color: #1f2328; }',
    '.card-text { margin: 0.45em 0 0; white-space: pre-wrap; color: #1f2328; }',
    'mark { background: #ffe27a; color: #1f2328; padding: 0 0.1em; border-radius: 0.15em; }',
    '.card-foot { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4em 0.6em; margin-top: 0.5em; font-size: 0.875em; }',
    '.badge { display: inline-block; padding: 0.05em 0.5em; border-radius: 0.3em; font-size: 0.875em; font-weight: 600; border: 1px solid currentColor; }',
    '.st-in_force { background: #e6f4ea; color: #1a5c2e; }',
    '.st-expired { background: #fdecea; color: #8b1a1a; }',
    '.st-plan_ended { background: #fff4e5; color: #7a4100; }',
    '.st-not_yet { background: #eaf2fb; color: #0b4a85; }',
    '.st-other { background: #f0f1f2; color: #3b434b; }',
    '.toggle { padding: 0.1em 0.2em; border: 0; background: transparent; color: #0b5394; text-decoration: underline; cursor: pointer; font-size: 1em; }',

    /* header tools, contact, feedback, English answer */
    '.tool { flex: none; min-height: 2.75em; padding: 0 0.6em; border: 0.0625em solid rgba(255,255,255,0.7); border-radius: 0.4em; background: transparent; color: #ffffff; cursor: pointer; font-size: 0.875em; font-weight: 600; }',
    '.tool[aria-pressed="true"] { background: #ffffff; color: #0b5394; }',
    '.root.large { font-size: 20px; font-size: max(1.25rem, 20px); }',
    '.contact { display: block; margin-top: 0.5em; padding: 0.6em 0.85em; background: #ffffff; border: 1px solid #0b5394; border-radius: 0.4em; }',
    '.contact a { font-weight: 700; }',
    '.feedback { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4em 0.6em; margin-top: 0.6em; font-size: 0.875em; color: #3b434b; }',
    '.vote { min-height: 2.75em; min-width: 2.75em; padding: 0.3em 0.9em; border: 1px solid #0b5394; border-radius: 0.4em; background: #ffffff; color: #0b5394; cursor: pointer; font-weight: 600; }',
    '.vote:hover { background: #e7f0fa; }',
    '.points { margin: 0.25em 0 0; padding: 0 0 0 1.4em; }',
    '.point { margin: 0 0 0.6em; padding: 0.6em 0.75em; background: #ffffff; border: 1px solid #d0d7de; border-radius: 0.5em; font-size: 0.9375em; }',
    '.point-head { margin: 0; }',
        '.quote { margin: 0; padding-left: 0.6em; border-left: 0.2em solid #9cbce0; }',
    '.auth-note { margin: 0.4em 0 0; font-size: 0.8125em; color: #444c56; }',

    /* input area */
    '.form { flex: none; display: flex; gap: 0.5em; padding: 0.75em; border-top: 1px solid #d0d7de; background: #ffffff; }',
    '.input { flex: 1 1 auto; min-width: 0; min-height: 2.75em; padding: 0.5em 0.75em; border: 1px solid #6e7781; border-radius: 0.4em; background: #ffffff; color: #1f2328; font-size: 1em; }',
    '.input::placeholder { color: #6e7781; opacity: 1; }',
    '.send { flex: none; min-height: 2.75em; min-width: 4em; padding: 0.5em 1em; border: 0; border-radius: 0.4em; background: #0b5394; color: #ffffff; font-weight: 600; cursor: pointer; font-size: 1em; }',
    '.send:hover { background: #073763; }',
    '.disclaimer { flex: none; margin: 0; padding: 0 0.75em 0.6em; background: #ffffff; font-size: 0.75em; color: #57606a; }',

    /* small screens: full width sheet */
    '@media (max-width: 30em) {',
    '  .panel, .pos-left .panel, .pos-right .panel { left: 0; right: 0; bottom: 0; width: auto; max-width: none; height: 85vh; max-height: 85vh; border-radius: 0.75em 0.75em 0 0; border-left: 0; border-right: 0; border-bottom: 0; }',
    '  .pos-right .launcher { right: 0.75em; } .pos-left .launcher { left: 0.75em; }',
    '  .launcher { bottom: 0.75em; }',
    '  .msg-user .bubble { max-width: 95%; }',
    '}',
    '@media (max-height: 34em) {',
    '  .panel, .pos-left .panel, .pos-right .panel { top: 0; bottom: 0; height: auto; max-height: 100vh; }',
    '  .header { padding: 0.3em 0.4em 0.3em 0.8em; } .log { padding: 0.6em; } .form { padding: 0.4em 0.6em; }',
    '  .disclaimer { padding-bottom: 0.3em; }',
    '}',
    '@media (prefers-reduced-motion: reduce) { .dots i { animation: none; opacity: 0.7; } }',
    '@media (forced-colors: active) { .launcher, .send, .close, .bubble, .card, .badge { border: 1px solid CanvasText; } }'
  ].join('\n');

  // ----------------------------------------------------------------------------
  // DOM helpers: strings only ever become text nodes
  // ----------------------------------------------------------------------------
  var idCounter = 0;
  function uid(prefix) { idCounter += 1; return 'pqa-' + prefix + '-' + idCounter; }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) { return; }
        if (k === 'class') { node.className = v; } else { node.setAttribute(k, v === true ? '' : String(v)); }
      });
    }
    appendAll(node, children);
    return node;
  }

  function appendAll(node, children) {
    if (children === null || children === undefined) { return; }
    if (!Array.isArray(children)) { children = [children]; }
    children.forEach(function (c) {
      if (c === null || c === undefined || c === false) { return; }
      node.appendChild(typeof c === 'object' && c.nodeType ? c : document.createTextNode(String(c)));
    });
  }

  function str(v) { return (v === null || v === undefined) ? '' : String(v); }

  function svgIcon() {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 5v2h10V8H7zm0 4v2h7v-2H7z');
    svg.appendChild(path);
    return svg;
  }

  // Highlight offsets come from the server (Python code points); JS strings use
  // UTF-16. Accept whichever interpretation reproduces highlight.text.
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

  function fillClauseText(p, text, range, full) {
    while (p.firstChild) { p.removeChild(p.firstChild); }
    var from = 0;
    var to = text.length;
    if (!full) {
      if (range) {
        from = Math.max(0, range[0] - EXCERPT_CONTEXT);
        to = Math.min(text.length, Math.max(range[1] + EXCERPT_CONTEXT, from + EXCERPT_LIMIT));
      } else {
        to = Math.min(text.length, EXCERPT_LIMIT);
      }
    }
    if (from > 0) { p.appendChild(document.createTextNode('…')); }
    if (range && range[0] >= from && range[1] <= to) {
      p.appendChild(document.createTextNode(text.slice(from, range[0])));
      p.appendChild(el('mark', null, text.slice(range[0], range[1])));
      p.appendChild(document.createTextNode(text.slice(range[1], to)));
    } else {
      p.appendChild(document.createTextNode(text.slice(from, to)));
    }
    if (to < text.length) { p.appendChild(document.createTextNode('…')); }
  }

  function statusLabel(ds) {
    if (!ds || typeof ds !== 'object') { return null; }
    var code = str(ds.status);
    var label = cfg.lang === 'en' ? (t.status[code] || str(ds.label)) : (str(ds.label) || t.status[code] || '');
    if (!label) { return null; }
    var cls = Object.prototype.hasOwnProperty.call(t.status, code) ? code : 'other';
    return el('span', { class: 'badge st-' + cls }, label);
  }

  // The readable clause page (never the JSON), with the quoted sentence marked.
  function clauseUrl(hit) {
    var params = new URLSearchParams();
    if (cfg.lang === 'en') { params.set('lang', 'en'); }
    if (hit.highlight && hit.highlight.text) { params.set('hl', str(hit.highlight.text)); }
    var qs = params.toString();
    return cfg.base + '/clauses/' + encodeURIComponent(str(hit.clause_id)) + (qs ? '?' + qs : '');
  }

  // ----------------------------------------------------------------------------
  // Widget state and DOM
  // ----------------------------------------------------------------------------
  var ui = null;          // built lazily once <body> exists
  var serverConfig = null; // GET /v1/config: the contact for refusals, whether votes are stored

  function loadServerConfig() {
    if (typeof fetch !== 'function') { return; }
    fetch(cfg.base + '/v1/config', { mode: 'cors', credentials: 'omit', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && typeof data === 'object') { serverConfig = data; } }, function () { /* keep defaults */ });
  }
  var pendingOps = [];

  function build() {
    var host = document.createElement('policy-qa-widget');
    host.setAttribute('lang', t.htmlLang);
    var shadow = host.attachShadow({ mode: 'open' });

    var sheetApplied = false;
    try {
      // Constructable stylesheets are not blocked by a strict style-src CSP.
      if (shadow.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === 'function') {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        shadow.adoptedStyleSheets = [sheet];
        sheetApplied = true;
      }
    } catch (e) { sheetApplied = false; }
    if (!sheetApplied) { shadow.appendChild(el('style', null, CSS)); }

    var panelId = uid('panel');
    var titleId = uid('title');
    var inputId = uid('input');
    var newWinId = uid('newwin');

    var root = el('div', { class: 'root pos-' + cfg.position, lang: t.htmlLang });

    var launcher = el('button', {
      type: 'button', class: 'launcher', 'data-qa': 'launcher',
      'aria-expanded': 'false', 'aria-controls': panelId, 'aria-haspopup': 'dialog'
    }, [svgIcon(), el('span', null, t.launcher)]);

    var closeBtn = el('button', { type: 'button', class: 'close', 'aria-label': t.closeLabel }, t.close);
    // Large text (government sites for older visitors must offer it); remembered on this device when allowed.
    var large = cfg.largeText;
    try { var saved = window.localStorage.getItem('policyqa-widget-large'); if (saved !== null) { large = saved === '1'; } } catch (e) { /* storage blocked */ }
    var largeBtn = el('button', { type: 'button', class: 'tool', 'data-qa': 'large-text', 'aria-pressed': large ? 'true' : 'false' }, t.largeText);
    var header = el('div', { class: 'header' }, [el('h2', { id: titleId }, cfg.title), largeBtn, closeBtn]);

    var log = el('div', {
      class: 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions',
      'aria-label': t.logLabel, tabindex: '0'
    });
    log.appendChild(el('div', { class: 'msg msg-info' }, el('div', { class: 'bubble' }, t.welcome)));

    var input = el('input', {
      id: inputId, class: 'input', type: 'text', 'data-qa': 'input',
      autocomplete: 'off', enterkeyhint: 'send', placeholder: t.placeholder
    });
    var send = el('button', { type: 'submit', class: 'send', 'data-qa': 'send' }, t.send);
    var form = el('form', { class: 'form', novalidate: true, role: 'search' }, [
      el('label', { for: inputId, class: 'sr-only' }, t.inputLabel), input, send
    ]);

    var panel = el('div', {
      id: panelId, class: 'panel', role: 'dialog', 'aria-modal': 'false',
      'aria-label': cfg.title, hidden: true
    }, [header, log, form, el('p', { class: 'disclaimer' }, t.disclaimer),
      el('span', { id: newWinId, class: 'sr-only' }, t.newWindow)]);

    root.appendChild(launcher);
    root.appendChild(panel);
    shadow.appendChild(root);
    document.body.appendChild(host);

    launcher.addEventListener('click', function () {
      if (panel.hidden) { openPanel(); } else { closePanel(true); }
    });
    closeBtn.addEventListener('click', function () { closePanel(true); });
    function applyLarge(on) {
      root.classList.toggle('large', on);
      largeBtn.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    applyLarge(large);
    largeBtn.addEventListener('click', function () {
      large = !large;
      applyLarge(large);
      try { window.localStorage.setItem('policyqa-widget-large', large ? '1' : '0'); } catch (e) { /* storage blocked */ }
    });
    root.addEventListener('keydown', function (ev) {
      if ((ev.key === 'Escape' || ev.key === 'Esc') && !panel.hidden) {
        ev.preventDefault();
        ev.stopPropagation();
        closePanel(true);
      }
    });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var q = input.value.trim();
      if (!q) { input.focus(); return; }
      input.value = '';
      input.focus();
      doAsk(q);
    });

    return { host: host, shadow: shadow, root: root, launcher: launcher, panel: panel, log: log, input: input, newWinId: newWinId };
  }

  function whenReady(fn) {
    if (ui) { fn(); return; }
    if (document.body) {
      ui = build();
      fn();
      return;
    }
    pendingOps.push(fn);
    if (pendingOps.length === 1) {
      document.addEventListener('DOMContentLoaded', function () {
        if (!ui) { ui = build(); }
        var ops = pendingOps.splice(0);
        ops.forEach(function (op) { op(); });
      });
    }
  }

  function openPanel() {
    ui.panel.hidden = false;
    ui.launcher.setAttribute('aria-expanded', 'true');
    ui.input.focus();
    scrollToBottom();
  }

  function focusIsInside() {
    var a = ui.shadow.activeElement;
    return !!a || document.activeElement === ui.host;
  }

  function closePanel(returnFocus) {
    var hadFocus = focusIsInside();
    ui.panel.hidden = true;
    ui.launcher.setAttribute('aria-expanded', 'false');
    if (returnFocus || hadFocus) { ui.launcher.focus(); }
  }

  function scrollToBottom() { ui.log.scrollTop = ui.log.scrollHeight; }

  function scrollToShow(node) {
    // .log is position:relative, so offsetTop is relative to it.
    ui.log.scrollTop = Math.max(0, node.offsetTop - 8);
  }

  // ----------------------------------------------------------------------------
  // Rendering answers
  // ----------------------------------------------------------------------------
  function renderCard(hit, closest) {
    var text = str(hit.text);
    var range = highlightRange(text, hit.highlight);
    var docTitle = str(hit.doc_title) || str(hit.doc_id);
    var docLine = el('p', { class: 'card-doc' }, docTitle);
    if (hit.doc_number) { docLine.appendChild(el('span', { class: 'card-docno' }, ' ' + str(hit.doc_number))); }

    var pathParts = Array.isArray(hit.section_path) ? hit.section_path.map(str).filter(Boolean) : [];
    var pathLine = null;
    if (pathParts.length || hit.heading) {
      pathLine = el('p', { class: 'card-path' }, pathParts.join(t.sectionSep));
      if (hit.heading) {
        if (pathParts.length) { pathLine.appendChild(document.createTextNode(t.sectionSep)); }
        pathLine.appendChild(el('span', { class: 'card-heading' }, str(hit.heading)));
      }
    }

    var textId = uid('text');
    var p = el('p', { class: 'card-text', id: textId });
    var long = text.length > EXCERPT_LIMIT;
    fillClauseText(p, text, range, !long);

    var foot = el('div', { class: 'card-foot' });
    var link = el('a', {
      href: clauseUrl(hit), target: '_blank', rel: 'noopener noreferrer',
      'data-qa': 'citation', 'aria-describedby': ui.newWinId
    }, str(hit.citation) || str(hit.clause_id));
    foot.appendChild(link);
    var badge = statusLabel(hit.doc_status);
    if (badge) { foot.appendChild(badge); }
    if (long) {
      var toggle = el('button', { type: 'button', class: 'toggle', 'aria-expanded': 'false', 'aria-controls': textId }, t.expand);
      toggle.addEventListener('click', function () {
        var expand = toggle.getAttribute('aria-expanded') !== 'true';
        fillClauseText(p, text, range, expand);
        toggle.setAttribute('aria-expanded', expand ? 'true' : 'false');
        toggle.textContent = expand ? t.collapse : t.expand;
      });
      foot.appendChild(toggle);
    }

    return el('li', { class: closest ? 'card card-closest' : 'card', 'data-qa': 'clause-card' },
      [docLine, pathLine, p, foot]);
  }

  function renderCards(hits, closest) {
    var list = el('ul', { class: 'cards' });
    hits.forEach(function (h) { if (h && typeof h === 'object') { list.appendChild(renderCard(h, closest)); } });
    return list;
  }

  function renderAgencies(agencies) {
    var list = el('ul', { class: 'agencies' });
    agencies.forEach(function (a) {
      if (!a || typeof a !== 'object') { return; }
      var name = str(a.name) || str(a.full_name);
      var li = el('li', { class: 'agency', title: str(a.full_name) || null });
      if (cfg.lang === 'en' && a.english_name) {
        li.appendChild(document.createTextNode(str(a.english_name)));
        li.appendChild(el('span', { class: 'en', lang: 'zh-CN' }, ' (' + name + ')'));
      } else {
        li.appendChild(document.createTextNode(name));
      }
      list.appendChild(li);
    });
    return list;
  }

  // The contact for questions the documents do not answer (12345 unless configured otherwise).
  function renderContact() {
    var text = cfg.contactText || (serverConfig && serverConfig.contact ? str(cfg.lang === 'en' ? serverConfig.contact.text_en : serverConfig.contact.text) : '');
    if (!text) { return null; }
    var url = cfg.contactUrl || (serverConfig && serverConfig.contact && serverConfig.contact.url ? safeLink(serverConfig.contact.url) : null);
    var box = el('p', { class: 'contact', 'data-qa': 'contact' }, t.contactLead);
    box.appendChild(url ? el('a', { href: url, rel: 'noopener noreferrer' }, text) : el('strong', null, text));
    box.appendChild(document.createTextNode(cfg.lang === 'en' ? '.' : '。'));
    return box;
  }

  // An English question: the answer composed in English from the documents' records, each point with the
  // Chinese sentence it rests on, marked as the authoritative text (never a translation of the clause).
  function renderEnglish(en) {
    var frag = el('div', { 'data-qa': 'answer-en' });
    frag.appendChild(el('div', { class: 'bubble answer', 'data-qa': 'answer', lang: 'en' }, str(en.text)));
    var points = Array.isArray(en.points) ? en.points : [];
    if (points.length) {
      frag.appendChild(el('p', { class: 'label', lang: 'en' }, I18N.en.enQuoteLabel));
      var list = el('ol', { class: 'points' });
      points.forEach(function (p) {
        if (!p || typeof p !== 'object') { return; }
        var li = el('li', { class: 'point', 'data-qa': 'point' });
        li.appendChild(el('p', { class: 'point-head', lang: 'zh-CN' }, str(p.citation)));
        li.appendChild(el('blockquote', { class: 'quote', lang: 'zh-CN', 'data-qa': 'quote-zh' }, str(p.quote_zh)));
        list.appendChild(li);
      });
      frag.appendChild(list);
    }
    if (en.authoritative) { frag.appendChild(el('p', { class: 'auth-note', lang: 'en' }, str(en.authoritative))); }
    return frag;
  }

  function renderFeedback(question, data) {
    if (serverConfig && serverConfig.feedback === false) { return null; }
    var box = el('div', { class: 'feedback', role: 'group', 'aria-label': t.helpfulQ, 'data-qa': 'feedback' });
    box.appendChild(el('span', null, t.helpfulQ));
    function vote(helpful) {
      var cited = (data.answerable === false ? data.closest : data.citations) || [];
      var body = {
        query: question, helpful: helpful, lang: cfg.lang, intent: str(data.intent),
        answerable: data.answerable === false ? false : true,
        clause_ids: cited.slice(0, 20).map(function (h) { return str(h && h.clause_id); }).filter(Boolean)
      };
      while (box.firstChild) { box.removeChild(box.firstChild); }
      var status = el('span', { role: 'status' }, '…');
      box.appendChild(status);
      fetch(cfg.base + '/v1/feedback', {
        method: 'POST', mode: 'cors', credentials: 'omit',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
        body: JSON.stringify(body)
      }).then(function (resp) {
        status.textContent = resp.ok ? t.helpfulThanks : t.helpfulFailed;
      }, function () { status.textContent = t.helpfulFailed; });
    }
    var yes = el('button', { type: 'button', class: 'vote', 'data-qa': 'helpful-yes' }, t.helpfulYes);
    var no = el('button', { type: 'button', class: 'vote', 'data-qa': 'helpful-no' }, t.helpfulNo);
    yes.addEventListener('click', function () { vote(true); ui.input.focus(); });
    no.addEventListener('click', function () { vote(false); ui.input.focus(); });
    box.appendChild(yes);
    box.appendChild(no);
    return box;
  }

  function renderResponse(data, question) {
    var box = el('div', { class: 'msg msg-bot' });
    var hits;
    if (data.answerable === false) {
      box.appendChild(el('div', { class: 'notice', 'data-qa': 'no-answer', role: 'note' }, str(data.message) || t.noAnswer));
      var contact = renderContact();
      if (contact) { box.appendChild(contact); }
      hits = Array.isArray(data.closest) ? data.closest : [];
      if (hits.length) {
        box.appendChild(el('p', { class: 'label label-closest' }, t.closestLabel));
        box.appendChild(renderCards(hits, true));
      }
    } else {
      box.appendChild(el('span', { class: 'sr-only' }, t.answerPrefix));
      if (data.answer_en && typeof data.answer_en === 'object') {  // the question was English
        box.appendChild(renderEnglish(data.answer_en));
      } else {
        box.appendChild(el('div', { class: 'bubble answer', 'data-qa': 'answer' }, str(data.answer) || t.answerFallback));
      }
      var agencies = Array.isArray(data.agencies) ? data.agencies : [];
      if (agencies.length) {
        box.appendChild(el('p', { class: 'label' }, t.agencies));
        box.appendChild(renderAgencies(agencies));
      }
      hits = Array.isArray(data.citations) ? data.citations : [];
      if (hits.length) {
        box.appendChild(el('p', { class: 'label' }, t.citations));
        box.appendChild(renderCards(hits, false));
      }
    }
    // an English question was matched through a dictionary translation: show what was searched
    if (data.translation && data.translation.searched_as) {
      box.appendChild(el('p', { class: 'mode', 'data-qa': 'translation' }, t.translated + str(data.translation.searched_as)));
    }
    var fb = renderFeedback(question, data);
    if (fb) { box.appendChild(fb); }
    return box;
  }

  function renderError(err) {
    var msg;
    if (err.kind === 'rate') {
      msg = err.retryAfter ? t.errRateSeconds.replace('{n}', String(err.retryAfter)) : t.errRate;
    } else if (err.kind === 'timeout') {
      msg = t.errTimeout;
    } else if (err.kind === 'client') {
      msg = err.message ? t.errBad + t.colon + err.message : t.errBad + (cfg.lang === 'en' ? '.' : '。');
    } else if (err.kind === 'data') {
      msg = t.errBadData;
    } else if (err.kind === 'server') {
      msg = t.errServer;
    } else {
      msg = t.errNetwork;
    }
    return el('div', { class: 'msg msg-bot' }, el('div', { class: 'error', role: 'alert' }, msg));
  }

  // ----------------------------------------------------------------------------
  // Network
  // ----------------------------------------------------------------------------
  function parseRetryAfter(v) {
    if (!v) { return null; }
    if (/^\s*\d+\s*$/.test(v)) { return Math.max(1, parseInt(v, 10)); }
    var when = Date.parse(v);
    if (!isNaN(when)) { return Math.max(1, Math.ceil((when - Date.now()) / 1000)); }
    return null;
  }

  function postAsk(query) {
    var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, REQUEST_TIMEOUT_MS) : null;
    return fetch(cfg.base + '/v1/ask', {
      method: 'POST',
      mode: 'cors',
      credentials: 'omit',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify({ query: query }),
      signal: ctrl ? ctrl.signal : undefined
    }).then(function (resp) {
      return resp.text().then(function (body) {
        var data = null;
        try { data = body ? JSON.parse(body) : null; } catch (e) { data = null; }
        if (!resp.ok) {
          var kind = resp.status === 429 ? 'rate' : (resp.status >= 500 ? 'server' : 'client');
          var apiErr = data && data.error && typeof data.error === 'object' ? data.error : {};
          throw { kind: kind, status: resp.status, message: str(apiErr.message), retryAfter: parseRetryAfter(resp.headers.get('Retry-After')) };
        }
        if (!data || typeof data !== 'object') { throw { kind: 'data' }; }
        return data;
      });
    }, function (e) {
      throw { kind: e && e.name === 'AbortError' ? 'timeout' : 'network' };
    }).then(function (data) {
      if (timer) { clearTimeout(timer); }
      return data;
    }, function (err) {
      if (timer) { clearTimeout(timer); }
      throw err && err.kind ? err : { kind: 'network' };
    });
  }

  function doAsk(question) {
    var userMsg = el('div', { class: 'msg msg-user' }, [
      el('span', { class: 'sr-only' }, t.you),
      el('div', { class: 'bubble', 'data-qa': 'user-message' }, question)
    ]);
    var loading = el('div', { class: 'msg msg-bot', 'data-qa': 'loading' },
      el('div', { class: 'bubble loading' }, [
        el('span', { class: 'dots', 'aria-hidden': 'true' }, [el('i'), el('i'), el('i')]),
        el('span', null, t.loading)
      ]));
    ui.log.appendChild(userMsg);
    ui.log.appendChild(loading);
    scrollToBottom();

    return postAsk(question).then(function (data) {
      var node = renderResponse(data, question);
      ui.log.replaceChild(node, loading);
      // a short log (high zoom, large text) shows the answer itself rather than the question above it
      scrollToShow(ui.log.clientHeight < 320 ? node : userMsg);
      return data;
    }, function (err) {
      ui.log.replaceChild(renderError(err), loading);
      scrollToBottom();
      return null;
    });
  }

  // ----------------------------------------------------------------------------
  // Public API (the only global)
  // ----------------------------------------------------------------------------
  var api = {
    open: function () { whenReady(openPanel); },
    close: function () { whenReady(function () { closePanel(false); }); },
    ask: function (text) {
      return new Promise(function (resolve) {
        whenReady(function () {
          var q = str(text).trim();
          if (ui.panel.hidden) { openPanel(); }
          if (!q) { resolve(null); return; }
          resolve(doAsk(q));
        });
      });
    }
  };
  Object.freeze(api);
  try {
    Object.defineProperty(window, 'PolicyQAWidget', { value: api, writable: false, configurable: true, enumerable: false });
  } catch (e) {
    window.PolicyQAWidget = api;
  }

  whenReady(function () { /* mount the launcher */ });
  loadServerConfig();
})();
