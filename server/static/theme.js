// The page's theme, set before the first paint (this script is not deferred): the system's
// (prefers-color-scheme, followed as it changes) unless one was picked with the Theme menu, which is
// remembered in localStorage. style.css reads html[data-theme].
"use strict";

(function () {
  const KEY = "taskprogress.theme";
  const CHOICES = ["system", "light", "dark"];
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  function choice() {
    try {
      const saved = localStorage.getItem(KEY);
      return CHOICES.includes(saved) ? saved : "system";
    } catch (e) {
      return "system"; // storage refused (a private window's setting): follow the system
    }
  }

  function apply() {
    const picked = choice();
    const dark = picked === "dark" || (picked === "system" && systemDark.matches);
    document.documentElement.dataset.theme = dark ? "dark" : "light";
  }

  function pick(value) {
    try {
      if (value === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, value);
    } catch (e) { /* not remembered, but applied */ }
    apply();
  }

  apply();
  systemDark.addEventListener("change", apply);
  document.addEventListener("DOMContentLoaded", () => {
    const menu = document.getElementById("theme");
    if (!menu) return;
    menu.value = choice();
    menu.addEventListener("change", () => pick(menu.value));
  });
})();
