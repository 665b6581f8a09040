/** An in-app link: pushes history instead of reloading; ctrl/cmd-click still opens a new tab. */
import type { ComponentChildren } from 'preact';
import { navigate } from '../lib/router.js';

export function Link(props: { href: string; class?: string; title?: string; children: ComponentChildren }) {
  return (
    <a
      href={props.href}
      class={props.class}
      title={props.title}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

export const runHref = (name: string) => `/runs/${encodeURIComponent(name)}`;
export const jobHref = (id: string) => `/jobs/${encodeURIComponent(id)}`;
