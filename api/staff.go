package api

import (
	"net/http"
	"strconv"

	"herald/staff"
)

type meJSON struct {
	Kind  string `json:"kind"`
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// me: GET /api/v1/me (SPEC 7.1): who the caller is.
func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	p, _ := staff.PrincipalFrom(r.Context())
	out := meJSON{Kind: p.Kind, Email: p.Email, Name: p.Name, Role: p.Role.String()}
	switch p.Kind {
	case staff.KindStaff:
		out.ID = strconv.FormatInt(p.StaffID, 10)
	case staff.KindToken:
		out.ID = strconv.FormatInt(p.TokenID, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type staffList struct {
	Items []staff.Member `json:"items"`
}

func (a *API) listStaff(w http.ResponseWriter, r *http.Request) error {
	ms, err := a.staff.List(r.Context())
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []staff.Member{}
	}
	writeJSON(w, http.StatusOK, staffList{Items: ms})
	return nil
}

// createStaff: POST /api/v1/staff {"email","name","role"} -> 201; the
// invitation mail is queued with it.
func (a *API) createStaff(w http.ResponseWriter, r *http.Request) error {
	var in staff.CreateInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	m, _, err := a.staff.Create(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/staff/"+strconv.FormatInt(m.ID, 10))
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func (a *API) getStaff(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	m, err := a.staff.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (a *API) patchStaff(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var p staff.Patch
	if err := decodeJSON(w, r, &p); err != nil {
		return err
	}
	m, err := a.staff.Update(r.Context(), id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// deleteStaff disables a member (SPEC 7.1): sessions and tokens end at
// once, the history stays.
func (a *API) deleteStaff(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	m, err := a.staff.Disable(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

type tokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// newToken is a token as made: its listing plus the secret, shown once.
type newToken struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	Owner      string `json:"owner"`
	CreatedAt  any    `json:"created_at"`
	LastUsedAt any    `json:"last_used_at"`
	Token      string `json:"token"`
}

type tokenList struct {
	Items []staff.Token `json:"items"`
}

// createToken: POST /api/v1/tokens (SPEC 7.2) -> 201 with the secret,
// shown this once.
func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, _ := staff.PrincipalFrom(r.Context())
	t, secret, err := a.staff.CreateToken(r.Context(), p, in.Name, in.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newToken{ID: t.ID, Name: t.Name, Role: t.Role, Owner: t.Owner,
		CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, Token: secret})
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	p, _ := staff.PrincipalFrom(r.Context())
	ts, err := a.staff.ListTokens(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenList{Items: ts})
	return nil
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, _ := staff.PrincipalFrom(r.Context())
	if err := a.staff.RevokeToken(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
