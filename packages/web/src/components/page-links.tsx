import { Link } from './router.tsx';

/**
 * Previous/next links of a paged list whose page is in the address (`urlFor(offset)`), shown only when
 * there is another page (an empty navigation landmark would be announced for nothing).
 */
export function PageLinks({ label, offset, pageSize, nextOffset, urlFor }: { label: string; offset: number; pageSize: number; nextOffset: number | null | undefined; urlFor: (offset: number) => string }) {
  if (offset === 0 && nextOffset == null) return null;
  return (
    <nav aria-label={label} className="pager">
      {offset > 0 ? <Link to={urlFor(Math.max(0, offset - pageSize))}>Previous {pageSize}</Link> : null}
      {nextOffset != null ? <Link to={urlFor(nextOffset)}>Next {pageSize}</Link> : null}
    </nav>
  );
}
