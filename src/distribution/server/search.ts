// The v1 search endpoint that `docker search <registry>/<term>` calls (distribution
// dropped it; the old v1 registry and Docker Hub answer it). Matches are repository
// names containing the term, case-insensitively.

export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

export interface SearchResponse {
  num_results: number;
  num_pages: number;
  page: number;
  page_size: number;
  query: string;
  results: SearchResult[];
}

const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;

function positive(raw: string | null, fallback: number, max = Infinity): number {
  const n = raw !== null && /^\d+$/.test(raw) ? Number(raw) : 0;
  return n > 0 ? Math.min(n, max) : fallback;
}

export function searchRepositories(repositories: readonly string[], query: URLSearchParams): SearchResponse {
  const term = (query.get('q') ?? '').trim();
  const size = positive(query.get('n'), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const pageNo = positive(query.get('page'), 1);
  const needle = term.toLowerCase();
  const matches = repositories.filter((r) => r.toLowerCase().includes(needle));
  return {
    num_results: matches.length,
    num_pages: Math.max(1, Math.ceil(matches.length / size)),
    page: pageNo,
    page_size: size,
    query: term,
    results: matches.slice((pageNo - 1) * size, pageNo * size).map((name) => ({
      name,
      description: '',
      star_count: 0,
      is_official: false,
      is_automated: false,
    })),
  };
}
