// vp3d page helpers: keyboard shortcuts, kiosk activity and "Save picture".
// Loaded by trame (see vp3d/app/ui.py); templates reach it as utils.get('vp3d').
(function () {
  "use strict";
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
