// A page's heading: an optional eyebrow above, the title, an optional lead paragraph under it.
export default function PageHead({ eyebrow, title, lead }) {
  return (
    <header className="page-head">
      {eyebrow ? <p className="eyebrow">{eyebrow}</p> : null}
      <h1>{title}</h1>
      {lead ? <p className="lead">{lead}</p> : null}
    </header>
  );
}
