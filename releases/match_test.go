package releases

import (
	"testing"

	"herald/store"
)

func testTaxonomy() *Taxonomy {
	return NewTaxonomy(
		[]store.Term{{Slug: "migration"}, {Slug: "trafficking"}, {Slug: "health"}},
		[]store.Term{
			{Slug: "americas"}, {Slug: "argentina", Parent: "americas"}, {Slug: "buenos-aires", Parent: "argentina"},
			{Slug: "europe"}, {Slug: "france", Parent: "europe"},
		})
}

func TestMatches(t *testing.T) {
	tax := testTaxonomy()
	tests := []struct {
		name            string
		prefs           Prefs
		topics, regions []string
		want            bool
	}{
		{"all prefs empty", Prefs{}, []string{"health"}, []string{"france"}, true},
		{"topic shared", Prefs{Topics: []string{"migration", "health"}}, []string{"health"}, nil, true},
		{"topic not shared", Prefs{Topics: []string{"migration"}}, []string{"health"}, nil, false},
		{"global release, regional subscriber", Prefs{Regions: []string{"argentina"}}, []string{"health"}, nil, true},
		{"regional release, all-regions subscriber", Prefs{}, []string{"health"}, []string{"argentina"}, true},
		{"same region", Prefs{Regions: []string{"argentina"}}, []string{"x"}, []string{"argentina"}, true},
		{"release in child region", Prefs{Regions: []string{"americas"}}, []string{"x"}, []string{"argentina"}, true},
		{"release in grandchild region", Prefs{Regions: []string{"americas"}}, []string{"x"}, []string{"buenos-aires"}, true},
		{"release in parent region does not reach child subscriber", Prefs{Regions: []string{"argentina"}}, []string{"x"}, []string{"americas"}, false},
		{"other region", Prefs{Regions: []string{"europe"}}, []string{"x"}, []string{"argentina"}, false},
		{"one of several release regions", Prefs{Regions: []string{"europe"}}, []string{"x"}, []string{"argentina", "france"}, true},
		{"topic ok region not", Prefs{Topics: []string{"x"}, Regions: []string{"europe"}}, []string{"x"}, []string{"argentina"}, false},
		{"region ok topic not", Prefs{Topics: []string{"y"}, Regions: []string{"americas"}}, []string{"x"}, []string{"argentina"}, false},
		{"unknown release region", Prefs{Regions: []string{"americas"}}, []string{"x"}, []string{"atlantis"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tax.Matches(tt.prefs, tt.topics, tt.regions); got != tt.want {
				t.Fatalf("Matches(%+v, %v, %v) = %v, want %v", tt.prefs, tt.topics, tt.regions, got, tt.want)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	got := testTaxonomy().Expand([]string{"americas", "france"})
	want := "americas,argentina,buenos-aires,france"
	if s := join(got); s != want {
		t.Fatalf("Expand = %s, want %s", s, want)
	}
}

func join(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func TestPickTranslation(t *testing.T) {
	group := []Candidate{
		{Language: "es", PublishedAt: 200, ID: 2},
		{Language: "en", PublishedAt: 100, ID: 1},
		{Language: "fr", PublishedAt: 300, ID: 3},
	}
	tests := []struct {
		name string
		lang string
		want int
	}{
		{"own language exists", "fr", 2},
		{"own language is the earliest", "en", 1},
		{"no version in their language: earliest", "ar", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PickTranslation(group, tt.lang); got != tt.want {
				t.Fatalf("PickTranslation(%s) = %d, want %d", tt.lang, got, tt.want)
			}
		})
	}
	if PickTranslation(nil, "en") != -1 {
		t.Fatal("empty group")
	}
	tie := []Candidate{{Language: "es", PublishedAt: 1, ID: 9}, {Language: "fr", PublishedAt: 1, ID: 4}}
	if PickTranslation(tie, "en") != 1 {
		t.Fatal("tie on time is not broken by id")
	}
}
