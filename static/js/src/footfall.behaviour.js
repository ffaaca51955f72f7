/*
 * Footfall behaviour collectors, loaded by footfall.js only when the site enabled them
 * (the collection endpoint's answer lists the enabled collectors; the endpoint also drops
 * signals of collectors the site turned off).
 *
 *   clicks  rage clicks (more than 3 on one element within 1 s), dead clicks (a click on a
 *           non-interactive element that changes nothing within 1 s), phantom clicks (the
 *           target left the DOM right after the click)
 *   errors  uncaught exceptions, unhandled rejections (also those thrown before this file
 *           loaded: the core keeps them), console.error / console.warn (at most 20 per
 *           page load, each message once)
 *   forms   form abandonment (started, left without submitting) and per-field hesitation
 *   vitals  LCP, CLS, INP, FID, TTFB, sent once when the page is first left
 *   seo     SEO diagnostics once per page load
 *
 * Elements are named by the core's short selector (tag, id, two classes, nth-of-type):
 * never their text or values. Signals wait in the core's batch until the page is left.
 */
(function (w, d) {
  var safe = function (fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (e) {}
    };
  };
  try {
    var core = w.footfall && w.footfall._;
    if (!core || core.loaded) return;
    core.loaded = 1;
    var enabled = function (name) {
      return core.c.indexOf(name) >= 0;
    };
    var push = core.q;
    var selector = core.s;
    var onLeave = core.h;
    var now = function () {
      return Date.now();
    };
    var listen = function (target, type, handler, capture) {
      target.addEventListener(type, safe(handler), capture);
    };
    var after = function (ms, fn) {
      return setTimeout(safe(fn), ms);
    };

    if (enabled('clicks')) {
      var INTERACTIVE =
        'a,button,input,select,textarea,label,summary,option,video,audio,iframe,[onclick],[role=button],[role=link],[role=checkbox],[role=radio],[role=tab],[role=menuitem],[role=option],[role=switch],[contenteditable],[tabindex]';
      var rage = { el: null },
        deadTarget = null,
        rageTimer;
      // A burst: clicks on one element, each within 1 s of the previous one.
      var endRage = function () {
        if (rage.most > 3) push({ t: 'rage_click', p: { selector: rage.s, clicks: Math.min(rage.n, 1000) } });
        rage = { el: null };
      };
      listen(
        d,
        'click',
        function (e) {
          var el = e.target,
            at = now();
          if (el && el.nodeType != 1) el = el.parentElement;
          if (!el) return;
          var name = selector(el);
          if (el != rage.el) {
            endRage();
            rage = { el: el, s: name, n: 0, most: 0, times: [] };
          }
          rage.times = rage.times.filter(function (t) {
            return at - t < 1000;
          });
          rage.times.push(at);
          rage.n++;
          rage.most = Math.max(rage.most, rage.times.length);
          clearTimeout(rageTimer);
          rageTimer = after(1000, endRage);
          after(100, function () {
            if (!el.isConnected) push({ t: 'phantom_click', p: { selector: name } });
          });
          if (el.closest(INTERACTIVE) || el == deadTarget) return;
          // Dead click: nothing in the DOM changes and the URL stays the same for 1 s.
          var changed = 0,
            url = location.href,
            observer = new MutationObserver(function () {
              changed = 1;
            });
          deadTarget = el;
          observer.observe(d, { subtree: true, childList: true, attributes: true, characterData: true });
          after(1000, function () {
            observer.disconnect();
            deadTarget = null;
            if (!changed && url == location.href && el.isConnected) {
              push({ t: 'dead_click', p: { selector: name } });
            }
          });
        },
        true
      );
      onLeave(function () {
        clearTimeout(rageTimer);
        endRage();
      });
    }

    if (enabled('errors')) {
      var seen = {},
        reported = 0,
        ours = /footfall(\.behaviour)?\.js/;
      // The first stack frame outside our own files: [source, line, column].
      var where = function (stack) {
        var frame,
          pattern = /((?:https?|file):\/\/[^\s()]+?):(\d+):(\d+)/g;
        while ((frame = pattern.exec(stack || ''))) if (!ours.test(frame[1])) return frame.slice(1);
        return [];
      };
      var report = function (type, message, source, line, column, stack) {
        message = String(message || '').slice(0, 500);
        if (!message || reported >= 20 || seen[type + message]) return;
        seen[type + message] = 1;
        reported++;
        if (!source) {
          var frame = where(stack);
          source = frame[0];
          line = frame[1];
          column = frame[2];
        }
        push({
          t: type,
          p: {
            message: message,
            source: String(source || '').split(/[?#]/)[0].slice(0, 300),
            line: +line || 0,
            column: +column || 0,
          },
        });
      };
      var text = function (value) {
        return value && value.message ? value.message : String(value);
      };
      var onError = function (e) {
        if (e.message) report('js_exception', e.message, e.filename, e.lineno, e.colno, e.error && e.error.stack);
      };
      var onRejection = function (e) {
        var reason = e.reason;
        report('promise_rejection', text(reason), '', 0, 0, reason && reason.stack);
      };
      listen(w, 'error', onError);
      listen(w, 'unhandledrejection', onRejection);
      // The ones the core kept from before this file loaded.
      (core.e || []).forEach(
        safe(function (e) {
          (e.type == 'error' ? onError : onRejection)(e);
        })
      );
      ['error', 'warn'].forEach(function (method) {
        var original = console[method];
        if (typeof original != 'function') return;
        console[method] = function () {
          var args = arguments;
          safe(function () {
            report(
              method == 'error' ? 'console_error' : 'console_warning',
              [].map.call(args, text).join(' '),
              '',
              0,
              0,
              new Error().stack
            );
          })();
          return original.apply(this, args);
        };
      });
    }

    if (enabled('forms')) {
      var forms = [],
        focusedAt = new Map();
      var field = function (el) {
        return el && el.form && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) &&
          !/^(hidden|submit|button|reset|image)$/.test(el.type)
          ? el
          : null;
      };
      var record = function (form) {
        for (var i = 0; i < forms.length; i++) if (forms[i].form == form) return forms[i];
        var entry = { form: form, name: selector(form), touched: new Set(), last: '' };
        forms.push(entry);
        return entry;
      };
      listen(
        d,
        'focusin',
        function (e) {
          var el = field(e.target);
          if (el && focusedAt.get(el) !== -1) focusedAt.set(el, now());
        },
        true
      );
      var typed = function (e) {
        var el = field(e.target);
        if (!el) return;
        var since = focusedAt.get(el),
          entry = record(el.form);
        if (since > 0) {
          push({
            t: 'form_hesitation',
            p: { form: entry.name, field: selector(el), hesitation_ms: Math.round(now() - since) },
          });
        }
        focusedAt.set(el, -1);
        entry.touched.add(el);
        entry.last = selector(el);
      };
      listen(d, 'input', typed, true);
      listen(d, 'change', typed, true);
      listen(
        d,
        'submit',
        function (e) {
          record(e.target).submitted = 1;
        },
        true
      );
      onLeave(function (kind) {
        if (kind < 2) return; // only when the page is really left (pagehide, SPA navigation)
        forms.forEach(function (entry) {
          if (entry.touched.size && !entry.submitted && !entry.reported) {
            entry.reported = 1;
            push({
              t: 'form_abandon',
              p: { form: entry.name, fields_touched: entry.touched.size, last_field: entry.last },
            });
          }
        });
      });
    }

    if (enabled('vitals')) {
      var vitals = {},
        interactions = {},
        sent,
        supported = (w.PerformanceObserver && PerformanceObserver.supportedEntryTypes) || [];
      var observe = function (type, handler, options) {
        if (supported.indexOf(type) < 0) return;
        new PerformanceObserver(function (list) {
          list.getEntries().forEach(safe(handler));
        }).observe(Object.assign({ type: type, buffered: true }, options));
        return 1;
      };
      observe('largest-contentful-paint', function (entry) {
        vitals.lcp = Math.round(entry.startTime);
      });
      // CLS: the largest session window (shifts < 1 s apart, window at most 5 s).
      var windowValue = 0,
        windowStart = 0,
        lastShift = 0;
      if (
        observe('layout-shift', function (entry) {
          if (entry.hadRecentInput) return;
          if (windowValue && entry.startTime - lastShift < 1000 && entry.startTime - windowStart < 5000) {
            windowValue += entry.value;
          } else {
            windowValue = entry.value;
            windowStart = entry.startTime;
          }
          lastShift = entry.startTime;
          vitals.cls = Math.max(vitals.cls || 0, Math.round(windowValue * 10000) / 10000);
        })
      ) {
        vitals.cls = vitals.cls || 0;
      }
      var interaction = function (entry) {
        if (entry.interactionId) {
          interactions[entry.interactionId] = Math.max(interactions[entry.interactionId] || 0, entry.duration);
        }
      };
      observe('event', interaction, { durationThreshold: 16 });
      observe('first-input', function (entry) {
        vitals.fid = Math.round(entry.processingStart - entry.startTime);
        interaction(entry);
      });
      onLeave(function () {
        if (sent) return;
        sent = 1;
        var durations = Object.keys(interactions)
          .map(function (id) {
            return interactions[id];
          })
          .sort(function (a, b) {
            return b - a;
          });
        // INP: the worst interaction, ignoring one outlier per 50 interactions.
        if (durations.length) vitals.inp = Math.round(durations[Math.min(durations.length - 1, (durations.length / 50) | 0)]);
        var navigation = performance.getEntriesByType('navigation')[0];
        if (navigation && navigation.responseStart > 0) vitals.ttfb = Math.round(navigation.responseStart);
        for (var name in vitals) if (!(vitals[name] >= 0 && vitals[name] <= 6e5)) delete vitals[name];
        if (Object.keys(vitals).length) push({ t: 'web_vitals', p: vitals });
      });
    }

    if (enabled('seo')) {
      var diagnose = function () {
        var count = function (css) {
            return d.querySelectorAll(css).length;
          },
          issues = [],
          title = d.title.trim().length,
          meta = d.querySelector('meta[name="description" i]'),
          description = meta ? (meta.getAttribute('content') || '').trim().length : 0,
          h1 = count('h1'),
          images = count('img:not([alt])');
        if (!title) issues.push('missing_title');
        if (!description) issues.push('missing_meta_description');
        if (!h1) issues.push('missing_h1');
        if (h1 > 1) issues.push('multiple_h1');
        if (images) issues.push('images_without_alt');
        if (!count('link[rel~="canonical" i][href]')) issues.push('missing_canonical');
        push({
          t: 'seo_diagnostics',
          p: {
            issues: issues,
            h1_count: h1,
            images_without_alt: images,
            title_length: title,
            description_length: description,
          },
        });
      };
      if (d.readyState == 'complete') safe(diagnose)();
      else listen(w, 'load', diagnose);
    }
  } catch (e) {}
})(window, document);
