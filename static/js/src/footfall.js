/*
 * Footfall core snippet: page views (SPA navigations included), custom events,
 * outbound links, file downloads, form submissions and engagement.
 *
 * Installed with one tag: <script defer src="https://HOST/js/footfall.js" data-site="pk_live_…"></script>
 * No cookies, no storage. Sends JSON as text/plain (no CORS preflight) to /api/collect;
 * sendBeacon when the page is hidden, fetch(keepalive) otherwise. Loads
 * footfall.behaviour.js when the server says the site enabled behaviour collectors.
 * Every entry point is wrapped: nothing here may throw into the host page.
 * Build: scripts/build_snippet.sh (esbuild --minify into static/js/footfall.js).
 */
(function (w, d) {
  var noop = function () {};
  // Run fn, swallowing anything it throws (the host page must never see our errors).
  var safe = function (fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (e) {}
    };
  };
  try {
    if (w.footfall && w.footfall._) return; // a second copy of the tag on the page
    var nav = navigator;
    var loc = location;
    var script = d.currentScript || d.querySelector('script[data-site][src*="footfall"]');
    var attr = function (name) {
      return script.getAttribute('data-' + name);
    };
    var yes = function (name) {
      return attr(name) == 'true';
    };
    var no = function (name) {
      return attr(name) == 'false';
    };
    var key = attr('site');
    var src = new URL(script.src, loc.href);
    var endpoint = attr('api') || src.origin + '/api/collect';
    var hashMode = yes('hash');
    var pending = (w.footfall && w.footfall.q) || [];
    var leaveHandlers = [];
    var batch = [];
    var collectors = [];
    var lastUrl, behaviourLoaded, held;
    // Requests go one after another, so the page view that opens a session is stored
    // before the events that follow it.
    var chain = Promise.resolve();
    // Engagement of the current page: visible / active (visible and focused) ms not yet sent.
    var visibleMs = 0,
      activeMs = 0,
      visibleSince = 0,
      activeSince = 0,
      maxDepth = 0,
      scrolled = 0,
      lastY = 0,
      pageHeight = 0;
    var off =
      !key ||
      (yes('respect-dnt') &&
        (nav.doNotTrack == '1' || w.doNotTrack == '1' || nav.globalPrivacyControl === true)) ||
      (!yes('allow-localhost') &&
        (/^(localhost|127(\.\d+){3}|\[::1\])$/.test(loc.hostname) || loc.protocol == 'file:'));

    var pageUrl = function () {
      return hashMode ? loc.href : loc.href.split('#')[0];
    };

    // The server's answer: which behaviour collectors the site enabled.
    var answer = function (body) {
      if (body && body.collectors && body.collectors.length && !behaviourLoaded) {
        behaviourLoaded = 1;
        collectors.push.apply(collectors, body.collectors);
        var tag = d.createElement('script');
        tag.src = src.href.replace(/\.js(\?.*)?$/, '.behaviour.js');
        tag.async = true;
        (d.head || d.documentElement).appendChild(tag);
      }
    };

    var send = function (events, url, beacon) {
      if (off || !events.length) return;
      // While starting, the first page view and the queued calls gather into one request.
      if (held) return held.push.apply(held, events);
      var body = JSON.stringify({
        k: key,
        u: (url || lastUrl || pageUrl()).slice(0, 2000),
        r: d.referrer.slice(0, 2000),
        t: d.title.slice(0, 500),
        w: w.innerWidth,
        h: hashMode ? 1 : 0,
        e: events,
      });
      if (beacon && nav.sendBeacon && nav.sendBeacon(endpoint, body)) return;
      chain = chain
        .then(function () {
          return fetch(endpoint, { method: 'POST', body: body, keepalive: true, credentials: 'omit' });
        })
        .then(function (response) {
          return response.json();
        })
        .then(answer)
        .catch(noop);
    };

    // Behaviour signals wait in the batch until the page is left (or the batch is full).
    var enqueue = function (event) {
      batch.push(event);
      if (batch.length >= 25) send(batch.splice(0));
    };

    // Fold the running timers into the totals; restart those that still run.
    var tick = function (e) {
      var now = Date.now(),
        type = e && e.type;
      var visible = type != 'pagehide' && d.visibilityState == 'visible';
      if (visibleSince) visibleMs += now - visibleSince;
      if (activeSince) activeMs += now - activeSince;
      visibleSince = visible ? now : 0;
      activeSince = visible && type != 'blur' && (type == 'focus' || d.hasFocus()) ? now : 0;
    };

    var scroll = function () {
      var root = d.documentElement,
        body = d.body;
      var y = w.scrollY || root.scrollTop || 0;
      pageHeight = Math.max(root.scrollHeight, body ? body.scrollHeight : 0);
      scrolled += Math.abs(y - lastY);
      lastY = y;
      if (pageHeight) {
        maxDepth = Math.max(maxDepth, Math.min(100, Math.round(((y + w.innerHeight) / pageHeight) * 100)));
      }
    };

    // Leaving the page: kind 1 = hidden, 2 = pagehide, 3 = SPA navigation.
    var leave = function (kind, e) {
      tick(e);
      scroll();
      leaveHandlers.forEach(function (handler) {
        safe(handler)(kind);
      });
      if (visibleMs) {
        batch.push({
          t: 'reading_behavior',
          p: {
            visible_ms: Math.min(visibleMs, 864e5),
            active_ms: Math.min(activeMs, 864e5),
            scroll_depth: maxDepth,
            scroll_velocity: activeMs ? Math.min(1e6, Math.round((scrolled * 10000) / activeMs) / 10) : 0,
            page_height: Math.min(pageHeight, 1e7),
          },
        });
        visibleMs = activeMs = scrolled = 0;
      }
      send(batch.splice(0), lastUrl, kind < 3);
    };

    var page = function () {
      var url = pageUrl();
      if (url == lastUrl) return;
      if (lastUrl) leave(3);
      lastUrl = url;
      maxDepth = scrolled = 0;
      lastY = w.scrollY || 0;
      scroll();
      send([{ t: 'pageview' }], url);
    };

    var props = function (given) {
      var out = {},
        count = 0;
      for (var name in given) {
        var value = given[name];
        if (name && count < 30 && /^(string|number|boolean)$/.test(typeof value)) {
          out[name.slice(0, 300)] = String(value).slice(0, 2000);
          count++;
        }
      }
      return out;
    };

    // The public API: footfall('Signup', {props: {...}, revenue: {amount, currency}, callback}).
    var footfall = function (name, options) {
      if (typeof name != 'string' || !name.trim()) return;
      options = options || {};
      var event = { t: 'custom', n: String(name).slice(0, 120), p: props(options.props) };
      if (options.revenue) event.$ = options.revenue;
      send([event]);
      if (options.callback) options.callback();
    };

    // A short, stable selector: tag, id, up to two classes, nth-of-type. Never text or values.
    var selector = function (el) {
      if (!el || el.nodeType != 1) return '';
      var tag = el.tagName.toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 40),
        parent = el.parentElement,
        position = 1,
        same = 0;
      if (/^[a-z][\w-]{0,63}$/i.test(el.id)) return tag + '#' + el.id;
      var classes = (el.getAttribute('class') || '')
        .split(/\s+/)
        .filter(function (name) {
          return /^[a-z_-][\w-]{0,39}$/i.test(name);
        })
        .slice(0, 2);
      if (classes.length) tag += '.' + classes.join('.');
      for (var sibling = parent && parent.firstElementChild; sibling; sibling = sibling.nextElementSibling) {
        if (sibling.tagName == el.tagName && ++same && sibling == el) position = same;
      }
      return same > 1 ? tag + ':nth-of-type(' + position + ')' : tag;
    };

    var extensions = (
      attr('download-extensions') ||
      'pdf,xlsx,xls,docx,doc,pptx,ppt,odt,ods,csv,txt,rtf,zip,rar,7z,gz,tgz,dmg,exe,msi,pkg,deb,rpm,apk,iso,mp3,wav,mp4,mov,avi,wmv,epub'
    ).split(',');

    var click = function (e) {
      if (e.type == 'auxclick' && e.button != 1) return;
      var link = e.target.closest && e.target.closest('a[href]');
      if (!link) return;
      var url = new URL(link.href, loc.href);
      if (!/^https?:$/.test(url.protocol)) return;
      var ext = /\.([a-z0-9]+)$/i.exec(url.pathname);
      if (
        !no('downloads') &&
        (link.hasAttribute('download') || (ext && extensions.indexOf(ext[1].toLowerCase()) >= 0))
      ) {
        footfall('File Download', { props: { url: url.origin + url.pathname } });
      } else if (!no('outbound') && url.host != loc.host) {
        footfall('Outbound Link: Click', { props: { url: url.href } });
      }
    };

    var api = safe(footfall);
    // For footfall.behaviour.js: enabled collectors, enqueue, selector, leave handlers.
    api._ = {
      c: collectors,
      q: safe(enqueue),
      s: selector,
      h: function (handler) {
        leaveHandlers.push(handler);
      },
    };
    w.footfall = api;
    if (off) return;

    var listen = function (target, type, handler, capture) {
      target.addEventListener(type, safe(handler), capture);
    };
    // Errors thrown before footfall.behaviour.js has loaded (it loads after the first
    // answer), kept for its errors collector; dropped if the site does not collect errors.
    var early = (api._.e = []);
    var keep = function (e) {
      if (!api._.loaded && early.length < 20) early.push(e);
    };
    listen(w, 'error', keep);
    listen(w, 'unhandledrejection', keep);
    listen(d, 'click', click, true);
    listen(d, 'auxclick', click, true);
    if (!no('forms')) {
      listen(
        d,
        'submit',
        function (e) {
          footfall('Form: Submission', { props: { form: selector(e.target) } });
        },
        true
      );
    }
    listen(d, 'visibilitychange', function (e) {
      if (d.visibilityState == 'hidden') leave(1, e);
      else tick(e);
    });
    listen(w, 'pagehide', function (e) {
      leave(2, e);
    });
    listen(w, 'focus', tick);
    listen(w, 'blur', tick);
    listen(w, 'scroll', scroll, { passive: true });
    var history = w.history;
    ['pushState', 'replaceState'].forEach(function (method) {
      var original = history[method];
      history[method] = function () {
        var result = original.apply(this, arguments);
        safe(page)();
        return result;
      };
    });
    listen(w, 'popstate', page);
    if (hashMode) listen(w, 'hashchange', page);

    tick();
    held = [];
    page();
    pending.forEach(function (args) {
      api.apply(null, args);
    });
    var first = held;
    held = 0;
    send(first);
  } catch (e) {}
})(window, document);
