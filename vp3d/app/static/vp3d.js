// vp3d page helpers: keyboard shortcuts, kiosk activity and "Save picture".
// Loaded by trame (see vp3d/app/ui.py); templates reach it as utils.get('vp3d').
(function () {
  "use strict";
  // trame's page forbids zooming (maximum-scale=1); people who need larger type must be able
  // to pinch-zoom (WCAG 1.4.4), so the viewport only sets the width.
  const viewport = document.querySelector('meta[name="viewport"]');
  if (viewport) viewport.setAttribute("content", "width=device-width, initial-scale=1");

  // Vuetify's slider thumbs (role=slider) are not tied to their label: name each one after
  // the label of its input, now and whenever the page adds one.
  function nameSliders(root) {
    root.querySelectorAll('[role="slider"]:not([aria-label]):not([aria-labelledby])').forEach((thumb) => {
      const input = thumb.closest(".v-input");
      const label = input && input.querySelector(".v-label");
      const text = label ? label.textContent.trim() : "";
      if (text) thumb.setAttribute("aria-label", text);
    });
  }
  new MutationObserver(() => nameSliders(document)).observe(document.documentElement,
    { childList: true, subtree: true });
  const SKIP = "input, textarea, select, [role=slider], [role=combobox], [role=listbox], .v-slider, .v-field";
  let lastActivity = 0;

  function ping(trigger) {
    const now = Date.now();
    if (now - lastActivity > 3000) {
      lastActivity = now;
      trigger("activity");
    }
  }

  window.vp3d = {
    keysInstalled: false,

    // Left/right arrows: previous/next step; space (outside buttons and fields): play/pause.
    installKeys(trigger) {
      if (this.keysInstalled) return;
      this.keysInstalled = true;
      window.addEventListener("pointerdown", () => ping(trigger), { passive: true });
      window.addEventListener("keydown", (event) => {
        ping(trigger);
        if (event.altKey || event.ctrlKey || event.metaKey) return;
        const target = event.target;
        if (target && target.closest && target.closest(SKIP)) return;
        // The story's keys belong to the story: the practice and the quiz keep theirs
        // (Space scrolls the quiz page).
        if (document.getElementById("vp3d-quiz") || document.getElementById("vp3d-practice")) return;
        if (event.key === "ArrowRight") {
          event.preventDefault();
          trigger("next_step");
        } else if (event.key === "ArrowLeft") {
          event.preventDefault();
          trigger("previous_step");
        } else if (event.key === " " && (!target || !target.closest || !target.closest("button, a"))) {
          event.preventDefault();
          trigger("toggle_play");
        }
      });
    },

    // Touch: a horizontal swipe on the narration, the images or the step controls moves
    // between steps (left: next, right: previous). The 3-D view keeps its own gestures (drag
    // rotates, pinch zooms), and the practice and the quiz keep theirs.
    installSwipe(trigger) {
      if (this.swipeInstalled) return;
      this.swipeInstalled = true;
      const AREAS = "#vp3d-narration, #vp3d-fluoro, #vp3d-controls, #vp3d-steps";
      let start = null;
      window.addEventListener("touchstart", (event) => {
        const t = event.touches[0];
        const area = event.target && event.target.closest && event.target.closest(AREAS);
        start = event.touches.length === 1 && area ? { x: t.clientX, y: t.clientY, at: Date.now() } : null;
      }, { passive: true });
      window.addEventListener("touchend", (event) => {
        if (!start || document.getElementById("vp3d-quiz") || document.getElementById("vp3d-practice")) return;
        const t = event.changedTouches[0];
        const dx = t.clientX - start.x, dy = t.clientY - start.y;
        const quick = Date.now() - start.at < 900;
        start = null;
        if (quick && Math.abs(dx) > 60 && Math.abs(dx) > 2 * Math.abs(dy)) {
          trigger(dx < 0 ? "next_step" : "previous_step");
        }
      }, { passive: true });
    },

    // The quiz's checked answers survive a reload of the tab: kept in its session storage
    // (question id -> choice) and sent back once; the server grades them again.
    installQuizMemory(trigger) {
      if (this.quizMemoryInstalled || !window.trame || !window.sessionStorage) return;
      this.quizMemoryInstalled = true;
      const KEY = "vp3d-quiz-answers";
      let saved = {};
      try { saved = JSON.parse(sessionStorage.getItem(KEY) || "{}") || {}; } catch (e) { saved = {}; }
      if (Object.keys(saved).length) trigger("quiz_restore", [saved]);
      let first = true;  // watch() calls back at once with the page's initial (empty) results
      window.trame.state.watch(["qz_results"], (results) => {
        if (first) { first = false; return; }
        const answers = {};
        Object.entries(results || {}).forEach(([id, r]) => { answers[id] = r.chosen; });
        sessionStorage.setItem(KEY, JSON.stringify(answers));
      });
    },

    // Tell the server the viewer's reduced-motion setting, now and when it changes.
    installMotion(trigger) {
      if (this.motionInstalled || !window.matchMedia) return;
      this.motionInstalled = true;
      const query = window.matchMedia("(prefers-reduced-motion: reduce)");
      trigger("motion_preference", [query.matches]);
      query.addEventListener && query.addEventListener("change", () => trigger("motion_preference", [query.matches]));
    },

    // Run fn once keys have rested for ms (a slider moved by arrow keys sends one value, so
    // ten presses take one new image, not ten).
    later(key, fn, ms = 600) {
      this.timers = this.timers || {};
      clearTimeout(this.timers[key]);
      this.timers[key] = setTimeout(fn, ms);
      return true;
    },

    // Keys that move a slider (the practice sends the value when such a key is released).
    isSliderKey(event) {
      return event.key.startsWith("Arrow") || ["Home", "End", "PageUp", "PageDown"].includes(event.key);
    },

    // Drag on a practice fluoroscopy image to aim: on release, send the drag as fractions of
    // the image's width and height (a plain click sends nothing).
    aimDrag(event, view, trigger) {
      const img = event.currentTarget;
      if (!img || event.button > 0) return;
      event.preventDefault();
      const box = img.getBoundingClientRect();
      const x0 = event.clientX, y0 = event.clientY;
      img.setPointerCapture && img.setPointerCapture(event.pointerId);
      const up = (e) => {
        img.removeEventListener("pointerup", up);
        img.removeEventListener("pointercancel", up);
        const dx = (e.clientX - x0) / Math.max(box.width, 1);
        const dy = (e.clientY - y0) / Math.max(box.height, 1);
        if (e.type === "pointerup" && Math.hypot(dx, dy) > 0.01) {
          trigger("practice_drag", [view, Math.round(dx * 1000) / 1000, Math.round(dy * 1000) / 1000]);
        }
      };
      img.addEventListener("pointerup", up);
      img.addEventListener("pointercancel", up);
    },

    // Anatomy names pinned to the 3D view. The page renders one `.vp3d-tag[data-anchor]` per
    // anchor (Scene3D.label_anchors(): name, color, side, position, normal, world mm); on every
    // animation frame this places each tag where the vtk.js camera shows its point, keeps one tag
    // per name (the one facing the camera most) and hides names whose surface faces away. The
    // view renders client-side, so the camera is the browser's own (after any drag or zoom).
    installPartLabels(viewRef) {
      if (this.partLabelsInstalled) return;
      this.partLabelsInstalled = true;
      const ref = viewRef || "vp3d_view";
      const parsed = new Map();
      const anchorOf = (tag) => {
        const text = tag.dataset.anchor;
        if (!parsed.has(text)) {
          if (parsed.size > 500) parsed.clear();
          try { parsed.set(text, JSON.parse(text)); } catch (e) { parsed.set(text, null); }
        }
        return parsed.get(text);
      };
      const widths = new WeakMap();  // a tag keeps its text (the page keys tags by name and side)
      const widthOf = (tag) => {
        if (!widths.has(tag)) {
          const text = tag.querySelector(".vp3d-tag-text");
          if (!text || !text.offsetWidth) return 120;
          widths.set(tag, text.offsetWidth);
        }
        return widths.get(tag);
      };
      const tick = () => {
        window.requestAnimationFrame(tick);
        const tags = document.querySelectorAll(".vp3d-tag[data-anchor]");
        if (!tags.length) return;
        const view = window.trame && window.trame.refs && window.trame.refs[ref];
        const box = tags[0].parentElement;
        if (!view || typeof view.getCamera !== "function" || !box) return;
        let camera = null;
        try { camera = view.getCamera(); } catch (e) { return; }
        if (!camera || !camera.position) return;
        const placed = window.vp3d.placeLabels(camera, box.clientWidth, box.clientHeight,
                                               Array.from(tags, anchorOf), Array.from(tags, widthOf));
        tags.forEach((tag, i) => {
          const p = placed[i];
          if (!p) {
            tag.style.visibility = "hidden";
            return;
          }
          tag.style.visibility = "visible";
          tag.style.transform = `translate(${p.x.toFixed(1)}px, ${p.y.toFixed(1)}px)`;
          tag.classList.toggle("vp3d-tag-left", p.left);
          const text = tag.querySelector(".vp3d-tag-text");
          if (text) text.style.transform = `translate(${p.dx.toFixed(1)}px, ${p.nudge.toFixed(1)}px)`;
          // Leader from the point to its text, in a column beside the anatomy.
          const line = tag.querySelector(".vp3d-tag-line");
          if (line) {
            line.style.width = `${Math.hypot(p.dx, p.nudge).toFixed(1)}px`;
            line.style.transform = `rotate(${Math.atan2(p.nudge, p.dx).toFixed(3)}rad)`;
          }
        });
      };
      window.requestAnimationFrame(tick);
    },

    // Screen places of anchors for a vtk.js camera ({position, focalPoint, viewUp, viewAngle,
    // parallelProjection, parallelScale}) in a w x h view: per anchor null (hidden: behind the
    // camera, off screen, facing away, or a better-facing anchor of the same name) or {x, y,
    // left (text on the left of the point), dx and nudge (px from the point to the text's near
    // edge: texts stand in a column each side of the anatomy, pushed apart vertically)}.
    // ``widths`` (px, optional) are the texts' widths, to keep the columns inside the view.
    placeLabels(camera, w, h, anchors, widths) {
      const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
      const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
      const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
      const unit = (a) => { const n = Math.hypot(a[0], a[1], a[2]) || 1; return [a[0] / n, a[1] / n, a[2] / n]; };
      const eye = camera.position;
      const forward = unit(sub(camera.focalPoint, eye));
      const right = unit(cross(forward, camera.viewUp));
      const up = cross(right, forward);
      const aspect = w / Math.max(h, 1);
      const tanHalf = Math.tan(((camera.viewAngle || 30) * Math.PI) / 360);
      const best = new Map();
      const out = anchors.map((a, i) => {
        if (!a || !a.position) return null;
        const d = sub(a.position, eye);
        const depth = dot(d, forward);
        if (!camera.parallelProjection && depth <= 1e-3) return null;
        const scale = camera.parallelProjection ? camera.parallelScale : depth * tanHalf;
        const nx = dot(d, right) / (scale * aspect);
        const ny = dot(d, up) / scale;
        if (Math.abs(nx) > 0.98 || Math.abs(ny) > 0.98) return null;
        const toEye = camera.parallelProjection ? [-forward[0], -forward[1], -forward[2]] : unit(sub(eye, a.position));
        const facing = a.normal ? dot(unit(a.normal), toEye) : 1;
        if (facing < 0.15) return null;
        const prev = best.get(a.name);
        if (prev === undefined || facing > prev.facing) best.set(a.name, { i, facing });
        return { x: ((nx + 1) / 2) * w, y: ((1 - ny) / 2) * h, left: nx < 0, dx: 0, nudge: 0 };
      });
      out.forEach((p, i) => {
        if (p && best.get(anchors[i].name).i !== i) out[i] = null;
      });
      // Texts on one side of the view stand in a column just beyond the outermost point on
      // that side (kept inside the view) and must not overlap: push them apart vertically.
      const gap = 20;
      for (const left of [true, false]) {
        const column = out.filter((p) => p && p.left === left).sort((a, b) => a.y - b.y);
        if (!column.length) continue;
        const wide = Math.max(...out.map((p, i) => (p && p.left === left ? (widths && widths[i]) || 120 : 0)));
        const edge = left ? Math.max(Math.min(...column.map((p) => p.x)) - 16, wide + 6)
                          : Math.min(Math.max(...column.map((p) => p.x)) + 16, w - wide - 6);
        column.forEach((p) => { p.dx = left ? Math.min(edge - p.x, -12) : Math.max(edge - p.x, 12); });
        for (let k = 1; k < column.length; k++) {
          const above = column[k - 1].y + column[k - 1].nudge;
          if (column[k].y + column[k].nudge < above + gap) column[k].nudge = above + gap - column[k].y;
        }
      }
      return out;
    },

    // The take-home sheet's paper: US Letter where the browser's region uses it, else A4.
    sheetPaper() {
      const region = (Intl.DateTimeFormat().resolvedOptions().locale.split("-").pop() || "").toUpperCase();
      return ["US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR", "PA", "DO", "PR", "SV", "NI", "HN"]
        .includes(region) ? "letter" : "a4";
    },

    // Fetch the take-home sheet a link names and save it under the server's file name; the
    // first sheet for a choice takes seconds, so the button shows it is busy meanwhile.
    // Resolves to "" or, when the server refuses, its one-line message.
    async downloadSheet(event) {
      event.preventDefault();
      const href = event.currentTarget.href;
      try {
        const response = await fetch(href);
        if (!response.ok) return (await response.text()).trim() || `take-home sheet: ${response.status}`;
        const blob = await response.blob();
        const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
        const url = URL.createObjectURL(blob);
        const link = document.createElement("a");
        link.href = url;
        link.download = match ? match[1] : "vp3d-sheet.pdf";
        document.body.appendChild(link);
        link.click();
        document.body.removeChild(link);
        setTimeout(() => URL.revokeObjectURL(url), 60000);
        return "";
      } catch (error) {
        return `The take-home sheet could not be fetched: ${error.message || error}`;
      }
    },

    // The document's language follows the session's (screen readers, hyphenation, spelling).
    setLanguage(lang) {
      if (typeof lang === "string" && /^[a-z]{2}$/.test(lang)) document.documentElement.lang = lang;
    },

    // Download a picture the server rendered ({url: data URL, name: file name}).
    download(picture) {
      if (!picture || !picture.url) return;
      const link = document.createElement("a");
      link.href = picture.url;
      link.download = picture.name || "vp3d.png";
      document.body.appendChild(link);
      link.click();
      document.body.removeChild(link);
      this.lastPicture = { name: link.download };
    },
  };
})();
