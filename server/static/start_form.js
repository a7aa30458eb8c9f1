// The start form: a kind selector and one field per parameter, built from GET /task-kinds (each kind's
// parameters are a JSON Schema: integers and numbers become number inputs with their limits, booleans
// checkboxes, strings with an enum selects, other strings text inputs; every field starts at its default).
// The page spells no kind's name: all of it comes from the server.
"use strict";

export class StartForm {
  constructor({ form, kindSelect, fields, description, error, submit, onStart }) {
    Object.assign(this, { form, kindSelect, fields, description, error, submit, onStart });
    this.kinds = new Map(); // name -> kind as the server describes it
    this.online = false;
    kindSelect.addEventListener("change", () => this.showKind());
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const kind = this.kinds.get(kindSelect.value);
      if (kind && this.online) this.onStart(kind, this.params(kind));
    });
  }

  setKinds(kinds) {
    const chosen = this.kindSelect.value;
    this.kinds = new Map(kinds.map((kind) => [kind.name, kind]));
    this.kindSelect.replaceChildren(...kinds.map((kind) => {
      const option = document.createElement("option");
      option.value = kind.name;
      option.textContent = kind.title || kind.name;
      return option;
    }));
    if (this.kinds.has(chosen)) this.kindSelect.value = chosen;
    this.showKind();
  }

  setOnline(online) {
    this.online = online;
    this.submit.disabled = !online || this.kinds.size === 0;
  }

  showKind() {
    const kind = this.kinds.get(this.kindSelect.value);
    this.description.textContent = kind ? String(kind.description || "") : "";
    const required = (kind && kind.params.required) || [];
    this.fields.replaceChildren(...Object.entries((kind && kind.params.properties) || {})
      .map(([name, spec]) => field(name, spec, required.includes(name))));
    this.showError(null);
    this.setOnline(this.online);
  }

  params(kind) {
    const params = {};
    for (const name of Object.keys(kind.params.properties || {})) {
      const input = this.fields.querySelector(`[name="${CSS.escape(name)}"]`);
      if (!input) continue;
      if (input.type === "checkbox") params[name] = input.checked;
      else if (input.type === "number") {
        if (input.value !== "") params[name] = Number(input.value);
      } else if (input.value !== "" || input.required) params[name] = input.value;
    }
    return params;
  }

  // Show a refusal of the server; `field` ("params.below") marks its input.
  showError(error) {
    for (const input of this.fields.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    this.error.hidden = !error;
    this.error.textContent = error ? String(error.message) : "";
    const name = error && typeof error.field === "string" && error.field.startsWith("params.")
      ? error.field.slice("params.".length) : null;
    const input = name && this.fields.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-errormessage", this.error.id);
    }
  }
}

function field(name, spec, required) {
  const wrapper = document.createElement("div");
  const label = document.createElement("label");
  label.textContent = String(spec.title || name);
  let input;
  if (spec.type === "boolean") {
    input = document.createElement("input");
    input.type = "checkbox";
    input.checked = spec.default === true;
    wrapper.className = "field check";
    wrapper.append(input, label);
  } else {
    if (spec.type === "string" && Array.isArray(spec.enum)) {
      input = document.createElement("select");
      for (const value of spec.enum) {
        const option = document.createElement("option");
        option.value = option.textContent = String(value);
        input.append(option);
      }
    } else {
      input = document.createElement("input");
      input.type = spec.type === "integer" || spec.type === "number" ? "number" : "text";
      if (input.type === "number") {
        input.step = spec.type === "integer" ? "1" : "any";
        if (typeof spec.minimum === "number") input.min = String(spec.minimum);
        if (typeof spec.maximum === "number") input.max = String(spec.maximum);
      } else if (typeof spec.maxLength === "number") {
        input.maxLength = spec.maxLength;
      }
    }
    if (spec.default !== undefined) input.value = String(spec.default);
    wrapper.className = "field";
    wrapper.append(label, input);
  }
  input.name = name;
  input.id = "param-" + name;
  label.htmlFor = input.id;
  input.required = required && spec.type !== "boolean";
  if (spec.description) input.title = String(spec.description);
  return wrapper;
}
