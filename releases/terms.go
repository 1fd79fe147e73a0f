package releases

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"herald/audit"
	"herald/store"
)

// Taxonomy returns the current taxonomy, reloading it only when another
// write (here or in another process) changed it.
func (s *Service) Taxonomy(ctx context.Context) (*Taxonomy, error) {
	v, err := s.db.Version(ctx, "taxonomy")
	if err != nil {
		return nil, err
	}
	s.taxMu.Lock()
	defer s.taxMu.Unlock()
	if s.tax != nil && s.taxVersion == v {
		return s.tax, nil
	}
	topics, err := s.db.Terms(ctx, store.Topics)
	if err != nil {
		return nil, err
	}
	regions, err := s.db.Terms(ctx, store.Regions)
	if err != nil {
		return nil, err
	}
	s.tax, s.taxVersion = NewTaxonomy(topics, regions), v
	return s.tax, nil
}

// AddTerm validates and adds a topic or a region. ErrConflict (409) when the
// slug exists.
func (s *Service) AddTerm(ctx context.Context, kind store.TermKind, t store.Term) (store.Term, error) {
	t.Slug = strings.TrimSpace(t.Slug)
	t.Name = OneLine(t.Name)
	if !ValidSlug(t.Slug) {
		return t, invalid("slug", "must be lower-case letters, digits and single hyphens ([a-z0-9-]+)")
	}
	if t.Name == "" || utf8.RuneCountInString(t.Name) > 200 {
		return t, invalid("name", "is required (at most 200 characters)")
	}
	names := make(map[string]string, len(t.Names))
	for lang, n := range t.Names {
		l, err := NormalizeLanguage(lang)
		if err != nil {
			return t, invalid("names", "%v", err)
		}
		if n = OneLine(n); n != "" {
			names[l] = n
		}
	}
	t.Names = names
	if kind == store.Topics {
		t.Parent = ""
	}
	if t.Parent = strings.TrimSpace(t.Parent); t.Parent != "" {
		tax, err := s.Taxonomy(ctx)
		if err != nil {
			return t, err
		}
		if _, ok := tax.Region(t.Parent); !ok {
			return t, invalid("parent", "unknown region %q", Clip(t.Parent, 60))
		}
	}
	if err := s.db.AddTerm(ctx, kind, t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return t, fmt.Errorf("releases: %s %q exists: %w", kind, t.Slug, &conflict{field: "slug"})
		}
		return t, err
	}
	s.changed(false)
	s.audit.Record(ctx, audit.Entry{Action: "taxonomy.add", Target: strings.TrimSuffix(string(kind), "s") + ":" + t.Slug,
		Details: map[string]any{"name": t.Name, "parent": t.Parent}})
	return t, nil
}

// EnsureDefaultTaxonomy loads the built-in taxonomy into an empty database
// (first start). It reports whether it did.
func (s *Service) EnsureDefaultTaxonomy(ctx context.Context) (bool, error) {
	nt, nr, err := s.db.CountTerms(ctx)
	if err != nil || nt+nr > 0 {
		return false, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, t := range DefaultTopics() {
			if err := tx.AddTerm(ctx, store.Topics, t); err != nil {
				return err
			}
		}
		for _, t := range DefaultRegions() {
			if err := tx.AddTerm(ctx, store.Regions, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("releases: load default taxonomy: %w", err)
	}
	s.changed(false)
	return true, nil
}
