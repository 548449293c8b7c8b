/* global document */
/**
 * Building DOM nodes. Data only ever becomes text nodes or attribute values, never markup, so
 * whatever a decision holds is shown as written and cannot run in the page.
 */

const svgNamespace = 'http://www.w3.org/2000/svg';

function fill(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  // append() turns strings into text nodes.
  node.append(...children.filter((child) => child !== undefined && child !== null));
  return node;
}

/** An HTML element with attributes and children (nodes or plain text). */
export function html(tag, attributes = {}, ...children) {
  return fill(document.createElement(tag), attributes, children);
}

/** An SVG element with attributes and children. */
export function svg(tag, attributes = {}, ...children) {
  return fill(document.createElementNS(svgNamespace, tag), attributes, children);
}

/** The element with this id; a missing one is a bug in the page, not in the data. */
export function byId(id) {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`console page has no #${id}`);
  return node;
}

/** Shows `message` in an alert element, or hides it when the message is empty. */
export function showMessage(node, message) {
  node.textContent = message;
  node.hidden = message === '';
}
