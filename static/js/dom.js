/**
 * dom.js — building the pages' elements.
 *
 *   el("p", { class: "note", text: "Hello" }, child, ...)  // attributes, then children
 */

/** A DOM element with attributes and children; text always goes in as text, never HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}
