package public

import "testing"

// A visitor who read the releases version just before another moved it
// asks with the older version: that is answered by a query, and leaves the
// pages of the newer version in place.
func TestListCache_OlderVersionKeepsTheNewer(t *testing.T) {
	var c listCache
	queries := 0
	find := func(name string) func() ([]releaseCard, string, error) {
		return func() ([]releaseCard, string, error) {
			queries++
			return []releaseCard{{Title: name}}, "", nil
		}
	}
	get := func(v int64, name string) string {
		t.Helper()
		cards, _, err := c.get(v, "/search?q=x", find(name))
		if err != nil || len(cards) != 1 {
			t.Fatalf("get: %v, %v", cards, err)
		}
		return cards[0].Title
	}
	if got := get(2, "v2"); got != "v2" || queries != 1 {
		t.Fatalf("first: %q after %d queries", got, queries)
	}
	if got := get(1, "v1"); got != "v1" || queries != 2 {
		t.Fatalf("older version: %q after %d queries, want its own query", got, queries)
	}
	if got := get(2, "again"); got != "v2" || queries != 2 {
		t.Fatalf("newer version after an older one: %q after %d queries, want the kept page", got, queries)
	}
	if got := get(3, "v3"); got != "v3" || queries != 3 {
		t.Fatalf("newer version: %q after %d queries, want a new query", got, queries)
	}
}
