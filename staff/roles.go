// Package staff owns herald's staff (SPEC 7.1, 7.2): accounts and their
// roles, passwords (argon2id), invitation and reset links, personal API
// tokens, and the principal (who is calling) that the API and the console
// check against their route tables. It imports store, mailer (for the
// invitation and reset mail) and audit; never net/http.
package staff

import (
	"context"
	"fmt"
	"strings"
)

// Role is a staff role; each includes the ones before it (SPEC 7.1).
type Role int

// The roles, in order. RoleNone is no role at all (never granted).
const (
	RoleNone Role = iota
	Viewer
	Editor
	Publisher
	Admin
)

var roleNames = [...]string{"", "viewer", "editor", "publisher", "admin"}

// Roles lists the roles, lowest first.
var Roles = []Role{Viewer, Editor, Publisher, Admin}

func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return ""
	}
	return roleNames[r]
}

// ParseRole reads a role's name ("Editor" and " editor " too).
func ParseRole(s string) (Role, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range roleNames {
		if i > 0 && n == s {
			return Role(i), nil
		}
	}
	return RoleNone, invalid("role", "unknown role %q: use viewer, editor, publisher or admin", clip(s, 40))
}

// Principal kinds (SPEC 7.1, GET /api/v1/me).
const (
	KindStaff      = "staff"
	KindToken      = "token"
	KindAdminToken = "admin-token"
)

// Principal is who makes a request: a staff member signed in to the
// console, a personal token, or the admin token (the break-glass admin).
type Principal struct {
	Kind    string
	StaffID int64 // 0 for the admin token and tokens it made
	TokenID int64 // for Kind token
	Email   string
	Name    string
	Role    Role
}

// AdminToken is the principal of the admin token.
var AdminToken = Principal{Kind: KindAdminToken, Name: "admin token", Role: Admin}

// ActorName names p in the audit log: the member's address, "token:ID"
// for a token no member made, or "admin-token".
func (p Principal) ActorName() string {
	switch {
	case p.Kind == KindAdminToken:
		return "admin-token"
	case p.Kind == KindToken && p.Email != "":
		return p.Email + " (token:" + fmt.Sprint(p.TokenID) + ")"
	case p.Kind == KindToken:
		return "token:" + fmt.Sprint(p.TokenID)
	}
	return p.Email
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal of ctx, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
