import { Link } from 'react-router';
import { usePageTitle } from '../components/use-page-title';

export function NotFoundPage() {
  usePageTitle('Page not found');
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <Link to="/">Browse events</Link>.
      </p>
    </section>
  );
}
