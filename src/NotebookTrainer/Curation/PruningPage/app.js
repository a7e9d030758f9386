'use strict';
// All text from captions is inserted with textContent or element properties, never as HTML.
const token = document.body.dataset.token;
let state = null;
let selectedTag = null;

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { 'X-Ntrain-Token': token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

function setStatus(text, isError) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.className = isError ? 'error' : '';
}

function renderState() {
  document.getElementById('folder').textContent = state.folder;
  document.getElementById('summary').textContent = `${state.tags.length} tags over ${state.images} images`;
  const undo = document.getElementById('undo');
  const redo = document.getElementById('redo');
  undo.disabled = !state.undo;
  redo.disabled = !state.redo;
  undo.title = state.undo ? `Undo: ${state.undo}` : 'Nothing to undo';
  redo.title = state.redo ? `Redo: ${state.redo}` : 'Nothing to redo';

  const filter = document.getElementById('filter').value.trim().toLowerCase();
  const list = document.getElementById('tags');
  list.replaceChildren();
  for (const t of state.tags) {
    if (filter && !t.tag.toLowerCase().includes(filter)) continue;
    const button = el('button', { className: 'tag', textContent: t.tag, onclick: () => selectTag(t.tag) });
    const item = el('li', {}, button, el('span', { className: 'count', textContent: String(t.count) }));
    if (t.category) button.append(el('span', { className: 'category', textContent: t.category }));
    item.dataset.tag = t.tag;
    if (t.tag === selectedTag) item.className = 'selected';
    list.append(item);
  }
  const options = document.getElementById('tag-options');
  options.replaceChildren(...state.tags.map(t => el('option', { value: t.tag })));
}

async function refresh() {
  state = await api('GET', '/api/state');
  renderState();
  if (selectedTag !== null) await showImages(selectedTag);
}

async function selectTag(tag) {
  selectedTag = tag;
  renderState();
  await showImages(tag);
}

async function showImages(tag) {
  const entry = state.tags.find(t => t.tag === tag);
  document.getElementById('selected-actions').hidden = false;
  document.getElementById('hint').hidden = true;
  document.getElementById('selected-tag').textContent = tag;
  document.getElementById('selected-count').textContent = entry ? `${entry.count} images` : 'no longer on any image';
  const images = await api('GET', '/api/images?tag=' + encodeURIComponent(tag));
  const container = document.getElementById('images');
  container.replaceChildren();
  for (const image of images) {
    const card = el('div', { className: 'image' });
    card.dataset.name = image.name;
    card.append(el('img', { src: `/api/thumb?name=${encodeURIComponent(image.name)}&token=${token}`, alt: image.name }));
    card.append(el('div', { className: 'name', textContent: image.name }));
    const chips = el('div', { className: 'chips' });
    for (const t of image.tags) {
      const chip = el('span', { className: 'chip', textContent: t });
      chip.dataset.tag = t;
      chip.append(el('button', { className: 'remove', textContent: '×', title: `remove '${t}' from ${image.name}`,
        onclick: () => run(() => api('POST', '/api/image', { name: image.name, add: [], remove: [t] })) }));
      chips.append(chip);
    }
    card.append(chips);
    const input = el('input', { className: 'add-tag', placeholder: 'add tag' });
    const add = el('button', { className: 'add', textContent: 'Add',
      onclick: () => { const v = input.value.trim(); if (v) run(() => api('POST', '/api/image', { name: image.name, add: [v], remove: [] })); } });
    input.addEventListener('keydown', e => { if (e.key === 'Enter') add.click(); });
    card.append(el('div', { className: 'add-row' }, input, add));
    container.append(card);
  }
}

async function run(action) {
  try {
    const result = await action();
    setStatus(`${result.description}: ${result.changed} caption(s) changed`, false);
  } catch (e) {
    setStatus(e.message, true);
  }
  await refresh();
}

document.getElementById('undo').onclick = () => run(() => api('POST', '/api/undo'));
document.getElementById('redo').onclick = () => run(() => api('POST', '/api/redo'));
document.getElementById('prune').onclick = () => run(() => api('POST', '/api/prune', { tag: selectedTag }));
document.getElementById('replace').onclick = () => {
  const v = document.getElementById('replace-input').value.trim();
  if (v) run(async () => { const r = await api('POST', '/api/replace', { tag: selectedTag, with: v }); selectedTag = v; return r; });
};
document.getElementById('merge').onclick = () => {
  const v = document.getElementById('merge-input').value.trim();
  if (v) run(async () => { const r = await api('POST', '/api/merge', { tags: [selectedTag], into: v }); selectedTag = v; return r; });
};
document.getElementById('filter').oninput = renderState;

refresh().then(() => { document.body.dataset.ready = 'true'; }, e => setStatus(e.message, true));
