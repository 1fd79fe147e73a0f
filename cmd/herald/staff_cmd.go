package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/user"
	"strings"
	"text/tabwriter"

	"herald/audit"
	"herald/staff"
	"herald/store"
)

func staffCommands() []command {
	return []command{
		{"staff add", "EMAIL --role ROLE [--name NAME]", "add a member; print their password link",
			"ROLE is viewer, editor, publisher or admin. The set-password link is also mailed;\nit works once, for 72 hours.", runStaffAdd},
		{"staff list", "", "list staff members", "", runStaffList},
		{"staff disable", "EMAIL", "disable a staff member and their tokens",
			"Their sessions and tokens stop working at once; their history stays.", runStaffDisable},
	}
}

// cliActor marks ctx as the CLI's, for the audit log (SPEC 7.3: actor
// cli:<OS user>).
func cliActor(ctx context.Context) context.Context {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return audit.WithActor(ctx, audit.Actor{Name: "cli:" + name, Kind: audit.KindCLI})
}

func runStaffAdd(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "staff add", "EMAIL --role ROLE [--name NAME]")
	role := fs.String("role", "", "viewer, editor, publisher or admin (required)")
	name := fs.String("name", "", "the member's name")
	lang := fs.String("language", "en", "language of the invitation mail (en, fr, es)")
	if code, ok := parse(fs, reorder(args)); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(e, fs, "staff add takes exactly one EMAIL (got %d)", fs.NArg())
	}
	if *role == "" {
		return usageError(e, fs, "staff add needs --role viewer|editor|publisher|admin")
	}
	if _, err := staff.ParseRole(*role); err != nil {
		return usageError(e, fs, "--role: %s", strings.TrimPrefix(err.Error(), "role: "))
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	m, link, err := a.staff.Create(ctx, staff.CreateInput{Email: fs.Arg(0), Name: *name, Role: *role, Language: *lang})
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stdout, "added %s (%s), id %d\nset-password link (works once, for 72 hours; also mailed):\n%s\n", m.Email, m.Role, m.ID, link)
	return exitOK
}

func runStaffList(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "staff list", "")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "staff list takes no arguments")
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	ms, err := a.staff.List(ctx)
	if err != nil {
		return fail(e, err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tSTATE\tLAST LOGIN")
	for _, m := range ms {
		state := "active"
		switch {
		case m.Disabled:
			state = "disabled"
		case !m.HasPassword:
			state = "invited"
		}
		last := "-"
		if m.LastLoginAt != nil {
			last = m.LastLoginAt.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Email, m.Name, m.Role, state, last)
	}
	return exitCode(tw.Flush())
}

func exitCode(err error) int {
	if err != nil {
		return exitFail
	}
	return exitOK
}

func runStaffDisable(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "staff disable", "EMAIL")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(e, fs, "staff disable takes exactly one EMAIL (got %d)", fs.NArg())
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	m, err := a.staff.ByEmail(ctx, fs.Arg(0))
	if errors.Is(err, store.ErrNotFound) {
		return fail(e, fmt.Errorf("no staff member with the address %s", fs.Arg(0)))
	}
	if err != nil {
		return fail(e, err)
	}
	if _, err := a.staff.Disable(ctx, m.ID); err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stdout, "disabled %s: their sessions and tokens no longer work\n", m.Email)
	return exitOK
}
