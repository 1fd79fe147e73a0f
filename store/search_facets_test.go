package store_test

import (
	"context"
	"slices"
	"testing"

	"herald/store"
	"herald/store/storetest"
)

// searchFiltered searches q among live releases of the given languages and
// topics, in order.
func searchFiltered(t *testing.T, db *store.DB, q string, order store.SearchOrder, langs, topics []string) []string {
	t.Helper()
	hits, err := db.SearchReleases(context.Background(), store.SearchQuery{
		Filter: store.ReleaseFilter{Status: "live", LiveAt: searchNow, Langs: langs, Topics: topics, Limit: 20},
		Terms:  store.SearchTerms(q), Order: order,
	})
	if err != nil {
		t.Fatalf("search %q %v %v: %v", q, langs, topics, err)
	}
	got := slugs(hits)
	slices.Sort(got)
	return got
}

// A search's language and topic filters are answered by the full-text
// index (each release's facets), which must follow every change of a
// release's language and topics, and never match a searched word.
func TestSearchReleases_FacetsFollowTheRelease(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.AddTerm(ctx, store.Topics, store.Term{Slug: "human-trafficking", Name: "Human trafficking"}); err != nil {
		t.Fatal(err)
	}
	ids := seedSearch(t, db, [][4]string{
		{"a", "en", "Flood relief", "<p>Boats arrived.</p>"},
		{"b", "fr", "Flood relief (fr)", "<p>Des bateaux.</p>"},
		{"c", "en", "Flood season", "<p>Rain.</p>"},
	})
	// c moves to Spanish and to another topic.
	c, err := db.Release(ctx, ids["c"])
	if err != nil {
		t.Fatal(err)
	}
	c.Language, c.Topics = "es", []string{"human-trafficking"}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateRelease(ctx, &c) }); err != nil {
		t.Fatal(err)
	}
	for _, order := range []store.SearchOrder{store.ByRank, store.ByDate} {
		for _, tc := range []struct {
			langs, topics []string
			want          []string
		}{
			{nil, nil, []string{"a", "b", "c"}},
			{[]string{"en"}, nil, []string{"a"}},
			{[]string{"en", "fr"}, nil, []string{"a", "b"}},
			{[]string{"es"}, nil, []string{"c"}},
			{nil, []string{"t"}, []string{"a", "b"}},
			{nil, []string{"human-trafficking"}, []string{"c"}},
			{[]string{"es"}, []string{"human-trafficking", "t"}, []string{"c"}},
			{[]string{"fr"}, []string{"human-trafficking"}, nil},
		} {
			if got := searchFiltered(t, db, "flood", order, tc.langs, tc.topics); !slices.Equal(got, tc.want) {
				t.Errorf("order %d, langs %v, topics %v: %v, want %v", order, tc.langs, tc.topics, got, tc.want)
			}
		}
	}
	// The facets are no words of the text.
	for _, q := range []string{"lang", "langen", "LANGen", "lang en", "topic", "topict", "TOPICt", "topichuman trafficking", "en", "es"} {
		if got := searchFiltered(t, db, q, store.ByRank, nil, nil); got != nil {
			t.Errorf("search %q found %v", q, got)
		}
	}
}

// Releases stored before migration 0019 get their facets from it.
func TestMigrateSearchFacets(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenNoMigrate(ctx, storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.MigrateUpToForTest(ctx, 18); err != nil {
		t.Fatal(err)
	}
	if err := db.AddTerm(ctx, store.Topics, store.Term{Slug: "t", Name: "T"}); err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.ExecForTest(ctx, `INSERT INTO releases (guid, slug, title, summary, body, body_format, body_html,
			language, status, published_at, live_at, created_at, updated_at, search_text)
			VALUES ('urn:uuid:old', 'old', 'Flood relief', '', '', 'html', '', 'fr', 'published', ?, ?, ?, ?, '')`,
			searchNow.UnixMilli()-60000, searchNow.UnixMilli()-60000, searchNow.UnixMilli(), searchNow.UnixMilli()); err != nil {
			return err
		}
		return tx.ExecForTest(ctx, `INSERT INTO release_topics (release_id, topic) SELECT id, 't' FROM releases WHERE slug = 'old'`)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// SQLite's facets come from the store's step, PostgreSQL's from SQL:
	// both as the store writes them for a new release.
	facets, err := db.StringForTest(ctx, "SELECT search_facets FROM releases WHERE slug = 'old'")
	if err != nil || facets != "LANGfr TOPICt" {
		t.Errorf("facets of a release stored before 0019: %q, %v", facets, err)
	}
	for _, tc := range []struct {
		langs, topics []string
		want          []string
	}{
		{[]string{"fr"}, []string{"t"}, []string{"old"}},
		{[]string{"en"}, nil, nil},
	} {
		if got := searchFiltered(t, db, "flood", store.ByRank, tc.langs, tc.topics); !slices.Equal(got, tc.want) {
			t.Errorf("langs %v, topics %v: %v, want %v", tc.langs, tc.topics, got, tc.want)
		}
	}
}
