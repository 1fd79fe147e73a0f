package staff

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"herald/audit"
	"herald/store"
)

// tokenPrefix starts every personal token, so that a leaked one is easy to
// recognize (and to search for in code).
const tokenPrefix = "hrd_"

// Token is a personal API token as listed (SPEC 7.2): never its secret.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Owner      string     `json:"owner"` // the maker's address; "admin-token"
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func tokenOf(t store.APIToken) Token {
	out := Token{ID: t.ID, Name: t.Name, Role: t.Role, Owner: t.StaffEmail, CreatedAt: t.CreatedAt}
	if t.StaffID == 0 {
		out.Owner = "admin-token"
	}
	if !t.LastUsedAt.IsZero() {
		u := t.LastUsedAt
		out.LastUsedAt = &u
	}
	return out
}

// CreateToken makes a token for p with a role at most p's own; the secret
// is returned once and only its hash is kept.
func (s *Service) CreateToken(ctx context.Context, p Principal, name, roleName string) (Token, string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return Token{}, "", invalid("name", "a token needs a name (what it is for)")
	case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return Token{}, "", invalid("name", "the name must be one line of text")
	case utf8.RuneCountInString(name) > 100:
		return Token{}, "", invalid("name", "the name is longer than 100 characters")
	}
	role := p.Role
	if strings.TrimSpace(roleName) != "" {
		var err error
		if role, err = ParseRole(roleName); err != nil {
			return Token{}, "", err
		}
	}
	if role > p.Role {
		return Token{}, "", &forbiddenError{field: "role", msg: "a token's role can be at most your own (" + p.Role.String() + ")"}
	}
	owner := p.StaffID
	if p.Kind == KindToken {
		// A token makes tokens for its maker, never for itself.
		tok, err := s.db.APITokenByID(ctx, p.TokenID)
		if err != nil {
			return Token{}, "", err
		}
		owner = tok.StaffID
	}
	secret := tokenPrefix + randomToken()
	row := store.APIToken{TokenHash: hashToken(secret), Name: name, Role: role.String(), StaffID: owner, CreatedAt: s.now(), StaffEmail: p.Email}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.InsertAPIToken(ctx, row)
		row.ID = id
		return err
	})
	if err != nil {
		return Token{}, "", err
	}
	s.audit.Record(ctx, audit.Entry{Action: "token.create", Target: "token:" + strconv.FormatInt(row.ID, 10),
		Details: map[string]any{"name": name, "role": row.Role}})
	return tokenOf(row), secret, nil
}

// forbiddenError is ErrForbidden with its own message and field.
type forbiddenError struct{ field, msg string }

func (e *forbiddenError) Error() string        { return e.msg }
func (e *forbiddenError) Is(target error) bool { return target == ErrForbidden }

// InvalidField names the field at fault.
func (e *forbiddenError) InvalidField() string { return e.field }

// ListTokens lists p's live tokens; an admin sees every one.
func (s *Service) ListTokens(ctx context.Context, p Principal) ([]Token, error) {
	owner := p.StaffID
	if p.Kind == KindToken {
		tok, err := s.db.APITokenByID(ctx, p.TokenID)
		if err != nil {
			return nil, err
		}
		owner = tok.StaffID
	}
	rows, err := s.db.ListAPITokens(ctx, owner, p.Role >= Admin)
	if err != nil {
		return nil, err
	}
	out := make([]Token, 0, len(rows))
	for _, r := range rows {
		out = append(out, tokenOf(r))
	}
	return out, nil
}

// RevokeToken revokes a token of p's (any token, for an admin). Someone
// else's token is not found, so that ids do not tell what exists.
func (s *Service) RevokeToken(ctx context.Context, p Principal, id int64) error {
	tok, err := s.db.APITokenByID(ctx, id)
	if err != nil {
		return err
	}
	owner := p.StaffID
	if p.Kind == KindToken {
		mine, err := s.db.APITokenByID(ctx, p.TokenID)
		if err != nil {
			return err
		}
		owner = mine.StaffID
	}
	if p.Role < Admin && tok.StaffID != owner || !tok.RevokedAt.IsZero() {
		return store.ErrNotFound
	}
	if err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.RevokeAPIToken(ctx, id, s.now()) }); err != nil {
		return err
	}
	s.audit.Record(ctx, audit.Entry{Action: "token.revoke", Target: "token:" + strconv.FormatInt(id, 10),
		Details: map[string]any{"name": tok.Name}})
	return nil
}

// LooksLikeToken reports whether a bearer value has the form of a personal
// token (so that the admin token is compared otherwise).
func LooksLikeToken(s string) bool {
	return strings.HasPrefix(s, tokenPrefix) && plausibleToken(s[len(tokenPrefix):])
}

// Authenticate returns the principal of a personal token: ErrBadToken when
// it is unknown, revoked, or its maker is disabled. Its role is the one it
// was made with, capped by its maker's current role.
func (s *Service) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if !LooksLikeToken(secret) {
		return Principal{}, ErrBadToken
	}
	tok, err := s.db.APITokenByHash(ctx, hashToken(secret))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrBadToken
	}
	if err != nil {
		return Principal{}, err
	}
	role, err := ParseRole(tok.Role)
	if err != nil {
		return Principal{}, ErrBadToken
	}
	p := Principal{Kind: KindToken, TokenID: tok.ID, Name: tok.Name, Role: role}
	if tok.StaffID != 0 {
		row, err := s.db.StaffByID(ctx, tok.StaffID)
		if err != nil {
			return Principal{}, err
		}
		if row.Disabled {
			return Principal{}, ErrBadToken
		}
		owner, err := ParseRole(row.Role)
		if err != nil {
			return Principal{}, ErrBadToken
		}
		p.StaffID, p.Email, p.Role = row.ID, row.Email, min(role, owner)
	}
	if err := s.db.TouchAPIToken(ctx, tok.ID, s.now()); err != nil {
		s.log.Warn("recording a token's use failed", "token_id", tok.ID, "err", err)
	}
	return p, nil
}
