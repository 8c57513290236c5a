// The code editor: CodeMirror 6, a language mode per runtime where one
// exists (loaded on demand), light or dark following the system setting.
import { basicSetup } from 'codemirror';
import { EditorView, keymap } from '@codemirror/view';
import { EditorState, Compartment, Prec } from '@codemirror/state';
import { indentWithTab, insertNewlineAndIndent } from '@codemirror/commands';
import { StreamLanguage } from '@codemirror/language';

// Runtime name -> a function that loads its language support.
const modes = {
  python: () => import('@codemirror/lang-python').then((m) => m.python()),
  node: () => import('@codemirror/lang-javascript').then((m) => m.javascript()),
  c: () => import('@codemirror/lang-cpp').then((m) => m.cpp()),
  cpp: () => import('@codemirror/lang-cpp').then((m) => m.cpp()),
  rust: () => import('@codemirror/lang-rust').then((m) => m.rust()),
  java: () => import('@codemirror/lang-java').then((m) => m.java()),
  go: () => import('@codemirror/lang-go').then((m) => m.go()),
  php: () => import('@codemirror/lang-php').then((m) => m.php()),
  ruby: () => import('@codemirror/legacy-modes/mode/ruby').then((m) => StreamLanguage.define(m.ruby)),
  bash: () => import('@codemirror/legacy-modes/mode/shell').then((m) => StreamLanguage.define(m.shell)),
  perl: () => import('@codemirror/legacy-modes/mode/perl').then((m) => StreamLanguage.define(m.perl)),
  lua: () => import('@codemirror/legacy-modes/mode/lua').then((m) => StreamLanguage.define(m.lua)),
};

export function hasMode(language) {
  return language in modes;
}

const dark = window.matchMedia('(prefers-color-scheme: dark)');
let oneDark = null;
async function themeFor(isDark) {
  if (!isDark) return [];
  oneDark ??= (await import('@codemirror/theme-one-dark')).oneDark;
  return oneDark;
}

// Creates an editor in parent. opts: {doc, label, onRun, onChange, enterRuns, minimal}
export function createEditor(parent, opts) {
  const language = new Compartment();
  const theme = new Compartment();
  const runKeys = [
    { key: 'Mod-Enter', run: () => (opts.onRun(), true) },
  ];
  if (opts.enterRuns) {
    runKeys.push({ key: 'Enter', run: () => (opts.onRun(), true) });
    runKeys.push({ key: 'Shift-Enter', run: insertNewlineAndIndent });
  }
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: opts.doc ?? '',
      extensions: [
        Prec.highest(keymap.of(runKeys)),
        basicSetup,
        keymap.of([indentWithTab]),
        language.of([]),
        theme.of([]),
        EditorView.contentAttributes.of({ 'aria-label': opts.label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) opts.onChange?.(u.state.doc.toString());
        }),
      ],
    }),
  });
  let currentLang = null;
  const api = {
    view,
    get: () => view.state.doc.toString(),
    set(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    async setLanguage(name) {
      currentLang = name;
      const load = modes[name];
      const ext = load ? await load() : [];
      if (currentLang === name) view.dispatch({ effects: language.reconfigure(ext) });
    },
    focus: () => view.focus(),
  };
  const applyTheme = async () => {
    const ext = await themeFor(dark.matches);
    view.dispatch({ effects: theme.reconfigure(ext) });
  };
  dark.addEventListener('change', applyTheme);
  applyTheme();
  return api;
}
