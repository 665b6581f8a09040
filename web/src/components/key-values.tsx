/** A two-column list of names and values; an empty one says so. */
import { Fragment, type ComponentChildren } from 'preact';

export function KeyValues(props: { rows: [string, ComponentChildren][]; empty?: string }) {
  if (props.rows.length === 0) return <p class="muted">{props.empty ?? 'none'}</p>;
  return (
    <dl class="kv">
      {props.rows.map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </Fragment>
      ))}
    </dl>
  );
}
