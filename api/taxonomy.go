package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"herald/store"
)

type topicJSON struct {
	Slug  string            `json:"slug"`
	Name  string            `json:"name"`
	Names map[string]string `json:"names"`
}

type regionJSON struct {
	Slug   string            `json:"slug"`
	Name   string            `json:"name"`
	Names  map[string]string `json:"names"`
	Parent string            `json:"parent"`
}

type taxonomyJSON struct {
	Topics  []topicJSON  `json:"topics"`
	Regions []regionJSON `json:"regions"`
}

func (a *API) getTaxonomy(w http.ResponseWriter, r *http.Request) error {
	tax, err := a.releases.Taxonomy(r.Context())
	if err != nil {
		return err
	}
	out := taxonomyJSON{Topics: []topicJSON{}, Regions: []regionJSON{}}
	for _, t := range tax.Topics {
		out.Topics = append(out.Topics, topicJSON{Slug: t.Slug, Name: t.Name, Names: nonNil(t.Names)})
	}
	for _, t := range tax.Regions {
		out.Regions = append(out.Regions, regionJSON{Slug: t.Slug, Name: t.Name, Names: nonNil(t.Names), Parent: t.Parent})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) addTopic(w http.ResponseWriter, r *http.Request) error {
	t, err := a.addTerm(w, r, store.Topics)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, topicJSON{Slug: t.Slug, Name: t.Name, Names: nonNil(t.Names)})
	return nil
}

func (a *API) addRegion(w http.ResponseWriter, r *http.Request) error {
	t, err := a.addTerm(w, r, store.Regions)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, regionJSON{Slug: t.Slug, Name: t.Name, Names: nonNil(t.Names), Parent: t.Parent})
	return nil
}

func (a *API) addTerm(w http.ResponseWriter, r *http.Request, kind store.TermKind) (store.Term, error) {
	body, err := readBody(w, r)
	if err != nil {
		return store.Term{}, err
	}
	var in regionJSON
	if err := json.Unmarshal(body, &in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return store.Term{}, &httpError{status: http.StatusUnprocessableEntity, field: te.Field,
				msg: fmt.Sprintf("%s has the wrong type", te.Field)}
		}
		return store.Term{}, badRequest("", "request body is not a valid JSON object")
	}
	return a.releases.AddTerm(r.Context(), kind, store.Term{Slug: in.Slug, Name: in.Name, Names: in.Names, Parent: in.Parent})
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
