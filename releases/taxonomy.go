package releases

import (
	"sort"

	"herald/store"
)

// Taxonomy is an immutable snapshot of the topics and regions, with the
// region tree indexed for matching. Get one from Service.Taxonomy.
type Taxonomy struct {
	Topics  []store.Term
	Regions []store.Term

	topics   map[string]int
	regions  map[string]int
	children map[string][]string
}

// NewTaxonomy indexes terms.
func NewTaxonomy(topics, regions []store.Term) *Taxonomy {
	t := &Taxonomy{
		Topics:   topics,
		Regions:  regions,
		topics:   make(map[string]int, len(topics)),
		regions:  make(map[string]int, len(regions)),
		children: map[string][]string{},
	}
	for i, x := range topics {
		t.topics[x.Slug] = i
	}
	for i, x := range regions {
		t.regions[x.Slug] = i
		if x.Parent != "" {
			t.children[x.Parent] = append(t.children[x.Parent], x.Slug)
		}
	}
	return t
}

// Topic returns the topic with that slug.
func (t *Taxonomy) Topic(slug string) (store.Term, bool) {
	i, ok := t.topics[slug]
	if !ok {
		return store.Term{}, false
	}
	return t.Topics[i], true
}

// Region returns the region with that slug.
func (t *Taxonomy) Region(slug string) (store.Term, bool) {
	i, ok := t.regions[slug]
	if !ok {
		return store.Term{}, false
	}
	return t.Regions[i], true
}

// Within reports whether region equals ancestor or descends from it.
func (t *Taxonomy) Within(region, ancestor string) bool {
	for seen := 0; region != "" && seen <= len(t.Regions); seen++ {
		if region == ancestor {
			return true
		}
		i, ok := t.regions[region]
		if !ok {
			return false
		}
		region = t.Regions[i].Parent
	}
	return false
}

// Expand returns the regions and all their descendants, sorted, without
// duplicates.
func (t *Taxonomy) Expand(regions []string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(s string) {
		if seen[s] {
			return
		}
		seen[s] = true
		for _, c := range t.children[s] {
			walk(c)
		}
	}
	for _, r := range regions {
		walk(r)
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// TopicName is the topic's name in lang, falling back to its default name
// and then to the slug.
func (t *Taxonomy) TopicName(slug, lang string) string {
	x, ok := t.Topic(slug)
	return termName(x, ok, slug, lang)
}

// RegionName is the region's name in lang; see TopicName.
func (t *Taxonomy) RegionName(slug, lang string) string {
	x, ok := t.Region(slug)
	return termName(x, ok, slug, lang)
}

func termName(x store.Term, ok bool, slug, lang string) string {
	if !ok {
		return slug
	}
	if n := x.Names[lang]; n != "" {
		return n
	}
	return x.Name
}
