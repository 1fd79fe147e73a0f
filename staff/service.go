package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"herald/audit"
	"herald/mailer"
	"herald/store"
)

// LinkTTL is how long a set-password link works (SPEC 7.1: 72 h).
const LinkTTL = 72 * time.Hour

// Options configures the service.
type Options struct {
	// BaseURL is HERALD_BASE_URL: set-password links are BASE/admin/password?token=...
	BaseURL string
	Logger  *slog.Logger
	// Audit records every change; nil records nothing.
	Audit *audit.Recorder
	// Notify wakes the mailer after an invitation or reset is queued.
	Notify func()
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Service manages staff accounts and tokens.
type Service struct {
	db    *store.DB
	opts  Options
	log   *slog.Logger
	audit *audit.Recorder
	now   func() time.Time
}

// New returns the service.
func New(db *store.DB, o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Notify == nil {
		o.Notify = func() {}
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return &Service{db: db, opts: o, log: o.Logger, audit: o.Audit, now: o.Now}
}

// Member is a staff member as the API shows it.
type Member struct {
	ID          int64      `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	Disabled    bool       `json:"disabled"`
	HasPassword bool       `json:"has_password"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at"`
}

func memberOf(s store.Staff) Member {
	m := Member{ID: s.ID, Email: s.Email, Name: s.Name, Role: s.Role, Disabled: s.Disabled,
		HasPassword: s.PasswordHash != "", CreatedAt: s.CreatedAt}
	if !s.LastLoginAt.IsZero() {
		t := s.LastLoginAt
		m.LastLoginAt = &t
	}
	return m
}

// NormalizeEmail checks an address and returns it trimmed, and its key
// (lower case) that makes addresses unique whatever their case.
func NormalizeEmail(s string) (string, string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", invalid("email", "an email address is required")
	}
	if len(s) > 254 || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }) {
		return "", "", invalid("email", "%q is not an email address", clip(s, 60))
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", "", invalid("email", "%q is not an email address", clip(s, 60))
	}
	return s, strings.ToLower(s), nil
}

func checkName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", invalid("name", "the name must be one line of text")
	}
	if utf8.RuneCountInString(s) > 120 {
		return "", invalid("name", "the name is longer than 120 characters")
	}
	return s, nil
}

// CreateInput is a new staff member.
type CreateInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Language string `json:"language"` // of the invitation mail; default en
}

// Create adds a staff member and queues the invitation mail with a
// set-password link (SPEC 7.1), in one transaction. It returns the link
// too (the CLI prints it). An address already taken, in any case, is a
// conflict.
func (s *Service) Create(ctx context.Context, in CreateInput) (Member, string, error) {
	email, key, err := NormalizeEmail(in.Email)
	if err != nil {
		return Member{}, "", err
	}
	name, err := checkName(in.Name)
	if err != nil {
		return Member{}, "", err
	}
	role, err := ParseRole(in.Role)
	if err != nil {
		return Member{}, "", err
	}
	now := s.now()
	var row store.Staff
	var link string
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		row = store.Staff{Email: email, EmailKey: key, Name: name, Role: role.String(), CreatedAt: now, UpdatedAt: now}
		id, err := tx.InsertStaff(ctx, row)
		if errors.Is(err, store.ErrConflict) {
			return &conflictError{ValidationError{Field: "email", Msg: "a staff member with the address " + email + " exists already"}}
		}
		if err != nil {
			return err
		}
		row.ID = id
		link, err = s.queueLink(ctx, tx, row, mailer.KindStaffInvite, in.Language, now)
		return err
	})
	if err != nil {
		return Member{}, "", err
	}
	s.opts.Notify()
	s.audit.Record(ctx, audit.Entry{Action: "staff.create", Target: target(row.ID),
		Details: map[string]any{"email": email, "role": role.String()}})
	return memberOf(row), link, nil
}

// conflictError is a validation error that is also a store conflict (409).
type conflictError struct{ ValidationError }

func (e *conflictError) Unwrap() []error { return []error{&e.ValidationError, store.ErrConflict} }

func target(id int64) string { return "staff:" + strconv.FormatInt(id, 10) }

// queueLink makes a set-password link for row and queues the mail of kind
// that carries it, in tx.
func (s *Service) queueLink(ctx context.Context, tx *store.Tx, row store.Staff, kind, lang string, now time.Time) (string, error) {
	tok := randomToken()
	purpose := "invite"
	if kind == mailer.KindStaffReset {
		purpose = "reset"
	}
	l := store.StaffLink{TokenHash: hashToken(tok), StaffID: row.ID, Purpose: purpose, CreatedAt: now, ExpiresAt: now.Add(LinkTTL)}
	if err := tx.InsertStaffLink(ctx, l); err != nil {
		return "", err
	}
	url := s.opts.BaseURL + "/admin/password?token=" + tok
	item, err := mailer.StaffItem(kind, row.Email, kind+":"+l.TokenHash[:32], mailer.StaffData{
		Language: lang, Name: row.Name, Role: row.Role, LinkURL: url, Expires: l.ExpiresAt})
	if err != nil {
		return "", err
	}
	if _, err := tx.Enqueue(ctx, now, []store.OutboxItem{item}); err != nil {
		return "", err
	}
	return url, nil
}

// randomToken is 32 random bytes, base64url: links and API tokens.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// hashToken is the stored form of a link or API token: SHA-256, hex. The
// tokens have 256 bits of entropy, so a fast hash is enough.
func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// List lists every staff member.
func (s *Service) List(ctx context.Context) ([]Member, error) {
	rows, err := s.db.ListStaff(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(rows))
	for _, r := range rows {
		out = append(out, memberOf(r))
	}
	return out, nil
}

// Get reads a staff member.
func (s *Service) Get(ctx context.Context, id int64) (Member, error) {
	r, err := s.db.StaffByID(ctx, id)
	if err != nil {
		return Member{}, err
	}
	return memberOf(r), nil
}

// ByEmail reads a staff member by address (any case).
func (s *Service) ByEmail(ctx context.Context, email string) (Member, error) {
	r, err := s.db.StaffByEmailKey(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return Member{}, err
	}
	return memberOf(r), nil
}

// Patch changes a staff member; nil fields stay.
type Patch struct {
	Name     *string `json:"name"`
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
}

// Update applies p. Disabling ends the member's sessions and tokens at
// once (they are checked against the row on every request).
func (s *Service) Update(ctx context.Context, id int64, p Patch) (Member, error) {
	var name string
	var role Role
	var err error
	if p.Name != nil {
		if name, err = checkName(*p.Name); err != nil {
			return Member{}, err
		}
	}
	if p.Role != nil {
		if role, err = ParseRole(*p.Role); err != nil {
			return Member{}, err
		}
	}
	var row store.Staff
	var wasDisabled bool
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if row, err = tx.StaffForUpdate(ctx, id); err != nil {
			return err
		}
		wasDisabled = row.Disabled
		if p.Name != nil {
			row.Name = name
		}
		if p.Role != nil {
			row.Role = role.String()
		}
		if p.Disabled != nil {
			row.Disabled = *p.Disabled
		}
		return tx.UpdateStaff(ctx, row, s.now())
	})
	if err != nil {
		return Member{}, err
	}
	action := "staff.update"
	if row.Disabled && !wasDisabled {
		action = "staff.disable"
	}
	details := map[string]any{}
	if p.Name != nil {
		details["name"] = row.Name
	}
	if p.Role != nil {
		details["role"] = row.Role
	}
	if p.Disabled != nil {
		details["disabled"] = row.Disabled
	}
	s.audit.Record(ctx, audit.Entry{Action: action, Target: target(id), Details: details})
	return memberOf(row), nil
}

// Disable disables a member: SPEC 7.1's DELETE, which keeps the history.
func (s *Service) Disable(ctx context.Context, id int64) (Member, error) {
	yes := true
	return s.Update(ctx, id, Patch{Disabled: &yes})
}

// LinkState tells whether a set-password link can be used, without using
// it: nil, or ErrLinkInvalid, ErrLinkUsed, ErrLinkExpired.
func (s *Service) LinkState(ctx context.Context, token string) error {
	if !plausibleToken(token) {
		return ErrLinkInvalid
	}
	return linkErr(s.db.StaffLinkState(ctx, hashToken(token), s.now()))
}

func plausibleToken(t string) bool {
	return len(t) == 43 && strings.Trim(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}

func linkErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrLinkInvalid
	case errors.Is(err, store.ErrLinkUsed):
		return ErrLinkUsed
	case errors.Is(err, store.ErrLinkExpired):
		return ErrLinkExpired
	}
	return err
}

// SetPassword uses a set-password link: it checks the password, uses the
// link (once: a second use fails with ErrLinkUsed) and stores the hash,
// all in one transaction, so that a refused password leaves the link
// usable. A disabled member's link is refused as invalid.
func (s *Service) SetPassword(ctx context.Context, token, password string) (Member, error) {
	if !plausibleToken(token) {
		return Member{}, ErrLinkInvalid
	}
	if err := CheckPassword(password); err != nil {
		return Member{}, err
	}
	hash := HashPassword(password)
	now := s.now()
	var row store.Staff
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.UseStaffLink(ctx, hashToken(token), now)
		if err != nil {
			return linkErr(err)
		}
		if row, err = tx.StaffForUpdate(ctx, id); err != nil {
			return err
		}
		if row.Disabled {
			return ErrLinkInvalid
		}
		if err := tx.SetStaffPassword(ctx, id, hash, now); err != nil {
			return err
		}
		row.PasswordHash, row.Epoch = hash, row.Epoch+1
		return nil
	})
	if err != nil {
		return Member{}, err
	}
	actx := audit.WithActor(ctx, audit.Actor{Name: row.Email, Kind: audit.KindStaff, IP: audit.ActorFrom(ctx).IP})
	s.audit.Record(actx, audit.Entry{Action: "staff.password", Target: target(row.ID)})
	return memberOf(row), nil
}

// RequestReset queues a password-reset mail when the address belongs to
// an enabled member; otherwise it does nothing and says nothing, so the
// answer never tells whether an address has an account.
func (s *Service) RequestReset(ctx context.Context, email, lang string) error {
	_, key, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	row, err := s.db.StaffByEmailKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) || err == nil && row.Disabled {
		return nil
	}
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := s.queueLink(ctx, tx, row, mailer.KindStaffReset, lang, s.now())
		return err
	})
	if err == nil {
		s.opts.Notify()
	}
	return err
}

// Login checks an address and password and returns the member's
// principal and session epoch. Any failure is ErrBadLogin (an unknown
// address takes as long as a wrong password).
func (s *Service) Login(ctx context.Context, email, password string) (Principal, int64, error) {
	key := strings.ToLower(strings.TrimSpace(email))
	row, err := s.db.StaffByEmailKey(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Principal{}, 0, err
	}
	if err != nil || row.PasswordHash == "" {
		VerifyPassword(dummyHash, password)
		return Principal{}, 0, ErrBadLogin
	}
	if !VerifyPassword(row.PasswordHash, password) || row.Disabled {
		return Principal{}, 0, ErrBadLogin
	}
	p, err := principalOf(row)
	if err != nil {
		return Principal{}, 0, err
	}
	if err := s.db.TouchStaffLogin(ctx, row.ID, s.now()); err != nil {
		return Principal{}, 0, err
	}
	return p, row.Epoch, nil
}

func principalOf(row store.Staff) (Principal, error) {
	role, err := ParseRole(row.Role)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Kind: KindStaff, StaffID: row.ID, Email: row.Email, Name: row.Name, Role: role}, nil
}

// Session returns the principal of a console session made for member id
// at epoch: refused (ErrBadLogin) once the member is disabled, or changed
// password since. The role is the member's current one.
func (s *Service) Session(ctx context.Context, id, epoch int64) (Principal, error) {
	row, err := s.db.StaffByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrBadLogin
	}
	if err != nil {
		return Principal{}, err
	}
	if row.Disabled || row.Epoch != epoch {
		return Principal{}, ErrBadLogin
	}
	return principalOf(row)
}

// TouchLogin records a sign-in by other means (single sign-on).
func (s *Service) TouchLogin(ctx context.Context, id int64) error {
	return s.db.TouchStaffLogin(ctx, id, s.now())
}

// ErrSSORefused means single sign-on found no account to sign in: an
// unknown person with no mapped group, a disabled member, or no address.
var ErrSSORefused = errors.New("single sign-on refused")

// SignInSSO signs in a person whom the identity provider vouched for
// (SPEC 7.2). role is what their groups map to (RoleNone: no mapped
// group). An unknown person with a mapped group gets an account with that
// role (no password, no invitation); a known member gets the mapped role
// when there is one, and keeps theirs otherwise; an unknown person with
// no mapped group, or a disabled member, is refused.
func (s *Service) SignInSSO(ctx context.Context, email, name string, role Role) (Principal, int64, error) {
	email, key, err := NormalizeEmail(email)
	if err != nil {
		return Principal{}, 0, fmt.Errorf("%w: the identity provider gave no usable, verified email address", ErrSSORefused)
	}
	if name, err = checkName(name); err != nil {
		name = ""
	}
	now := s.now()
	var row store.Staff
	var created, changed bool
	// Two first sign-ins of one person at once: the loser's insert finds
	// the address taken, and its second pass reads the winner's row.
	for range 2 {
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			created, changed = false, false
			var err error
			row, err = tx.StaffByEmailKeyForUpdate(ctx, key)
			switch {
			case errors.Is(err, store.ErrNotFound):
				if role == RoleNone {
					return fmt.Errorf("%w: %s is not a staff member and is in no mapped group", ErrSSORefused, email)
				}
				row = store.Staff{Email: email, EmailKey: key, Name: name, Role: role.String(), CreatedAt: now, UpdatedAt: now, Epoch: 1}
				row.ID, err = tx.InsertStaff(ctx, row)
				created = true
				return err
			case err != nil:
				return err
			case row.Disabled:
				return fmt.Errorf("%w: %s is disabled", ErrSSORefused, email)
			case role != RoleNone && role.String() != row.Role:
				row.Role, changed = role.String(), true
				return tx.UpdateStaff(ctx, row, now)
			}
			return nil
		})
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return Principal{}, 0, err
	}
	actx := audit.WithActor(ctx, audit.Actor{Name: "oidc", Kind: audit.KindSystem, IP: audit.ActorFrom(ctx).IP})
	switch {
	case created:
		s.audit.Record(actx, audit.Entry{Action: "staff.create", Target: target(row.ID), Details: map[string]any{"email": email, "role": row.Role, "via": "oidc"}})
	case changed:
		s.audit.Record(actx, audit.Entry{Action: "staff.update", Target: target(row.ID), Details: map[string]any{"role": row.Role, "via": "oidc"}})
	}
	p, err := principalOf(row)
	if err != nil {
		return Principal{}, 0, err
	}
	if err := s.db.TouchStaffLogin(ctx, row.ID, now); err != nil {
		return Principal{}, 0, err
	}
	return p, row.Epoch, nil
}
