package bounces

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A small POP3 client (RFC 1939): USER/PASS, STAT, UIDL, RETR, DELE, QUIT.
// Deletions take effect at QUIT; a session cut before it deletes nothing,
// so a message is never lost, at worst read again.

type pop3 struct {
	tp *textproto.Conn
}

// cmd sends a command and reads its one-line reply: "+OK ..." or an error
// with the server's text (never the command, which may hold a password).
func (c *pop3) cmd(format string, args ...any) (string, error) {
	if err := c.tp.PrintfLine(format, args...); err != nil {
		return "", err
	}
	return c.reply()
}

func (c *pop3) reply() (string, error) {
	line, err := c.tp.ReadLine()
	if err != nil {
		return "", err
	}
	if rest, ok := strings.CutPrefix(line, "+OK"); ok {
		return strings.TrimSpace(rest), nil
	}
	return "", errors.New("server said: " + strings.TrimSpace(strings.TrimPrefix(line, "-ERR")))
}

// uidl lists message number -> unique id.
func (c *pop3) uidl() (map[int]string, error) {
	if _, err := c.cmd("UIDL"); err != nil {
		return nil, fmt.Errorf("UIDL: %w", err)
	}
	lines, err := c.tp.ReadDotLines()
	if err != nil {
		return nil, err
	}
	out := map[int]string{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		if n, err := strconv.Atoi(f[0]); err == nil {
			out[n] = f[1]
		}
	}
	return out, nil
}

func (p *Poller) pollPOP3(ctx context.Context) (PollResult, error) {
	var res PollResult
	port := "110"
	if p.u.Scheme == "pop3s" {
		port = "995"
	}
	conn, err := p.dial(ctx, port)
	if err != nil {
		return res, err
	}
	_ = conn.SetDeadline(time.Now().Add(4 * p.opts.Timeout))
	c := &pop3{tp: textproto.NewConn(conn)}
	defer c.tp.Close()
	if _, err := c.reply(); err != nil {
		return res, fmt.Errorf("greeting: %w", err)
	}
	pass, _ := p.u.User.Password()
	if _, err := c.cmd("USER %s", p.u.User.Username()); err != nil {
		return res, fmt.Errorf("login: %w", err)
	}
	if _, err := c.cmd("PASS %s", pass); err != nil {
		return res, fmt.Errorf("login: %w", err)
	}
	stat, err := c.cmd("STAT")
	if err != nil {
		return res, fmt.Errorf("STAT: %w", err)
	}
	if f := strings.Fields(stat); len(f) == 0 || f[0] == "0" {
		_, err := c.cmd("QUIT")
		return res, err
	}
	ids, err := c.uidl()
	if err != nil {
		return res, err
	}
	nums := slices.Sorted(maps.Keys(ids))
	for _, n := range nums {
		uid := ids[n]
		if res.Read >= maxPerPoll {
			break
		}
		if p.isLeft("pop3:" + uid) {
			continue
		}
		if _, err := c.cmd("RETR %d", n); err != nil {
			return res, fmt.Errorf("RETR: %w", err)
		}
		raw, err := c.tp.ReadDotBytes()
		if err != nil {
			return res, fmt.Errorf("RETR: %w", err)
		}
		res.Read++
		done, err := p.proc.HandleMail(ctx, raw)
		if err != nil {
			return res, err // nothing is deleted: no QUIT
		}
		if !done {
			res.Left++
			p.leave("pop3:" + uid)
			continue
		}
		if _, err := c.cmd("DELE %d", n); err != nil {
			return res, fmt.Errorf("DELE: %w", err)
		}
		res.Processed++
	}
	if _, err := c.cmd("QUIT"); err != nil {
		return res, fmt.Errorf("QUIT: %w", err)
	}
	return res, nil
}
