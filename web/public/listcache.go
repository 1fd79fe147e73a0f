package public

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// listCacheSize bounds how many pages of results listCache keeps: a few
// hundred distinct searches and archive pages cover what a newsroom's
// visitors ask between two changes of releases.
const listCacheSize = 512

// listQueryTimeout bounds a query that the cache runs for every visitor
// waiting for the same page.
const listQueryTimeout = 10 * time.Second

// listCache keeps pages of archive and search results (their cards and the
// next page's cursor) for one releases version, as the home page's cache
// does: a search that many visitors make costs one query per change of
// releases, not one per visit. Concurrent misses of the same page wait for
// one query instead of each running their own.
type listCache struct {
	mu    sync.Mutex
	v     int64
	pages map[string]listPage
	group singleflight.Group
}

// listPage is one cached page of results.
type listPage struct {
	cards []releaseCard
	next  string
}

// get returns the page of key for releases version v, calling find on a
// miss. Pages found by a find that started under an older version are
// returned to their callers but not kept.
func (c *listCache) get(v int64, key string, find func() ([]releaseCard, string, error)) ([]releaseCard, string, error) {
	if p, ok := c.lookup(v, key); ok {
		return p.cards, p.next, nil
	}
	res, err, _ := c.group.Do(strconv.FormatInt(v, 10)+"\x00"+key, func() (any, error) {
		// A call that finished between the look above and this one kept
		// its page: no second query.
		if p, ok := c.lookup(v, key); ok {
			return p, nil
		}
		cards, next, err := find()
		if err != nil {
			return nil, err
		}
		p := listPage{cards: cards, next: next}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.v == v {
			if len(c.pages) >= listCacheSize {
				// Forget a quarter, whichever the map yields first: cheaper
				// than keeping an order, and popular pages come back at once.
				n := listCacheSize / 4
				for k := range c.pages {
					delete(c.pages, k)
					if n--; n == 0 {
						break
					}
				}
			}
			c.pages[key] = p
		}
		return p, nil
	})
	if err != nil {
		return nil, "", err
	}
	p := res.(listPage)
	return p.cards, p.next, nil
}

// lookup returns the page of key kept for version v. A newer v empties the
// cache; an older one (a caller that read the version before another
// moved it) finds nothing and leaves the cache to the newer version.
func (c *listCache) lookup(v int64, key string) (listPage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v > c.v || c.pages == nil {
		c.v, c.pages = v, map[string]listPage{}
	}
	p, ok := c.pages[key]
	return p, ok && c.v == v
}

// listKey names a page of results: what it lists (ranked or by date, the
// words, the filters), where it starts, and the language its dates are
// written in.
func listKey(a *archiveQuery, ranked bool, lang string) string {
	var b strings.Builder
	b.WriteString(lang)
	if ranked {
		b.WriteString("|rank|")
	} else {
		b.WriteString("|date|")
	}
	b.WriteString(strings.Join(a.terms, "\x00"))
	b.WriteByte('|')
	if a.q != "" {
		b.WriteString("q") // punctuation alone finds nothing; no q lists all
	}
	p := a.params()
	p.Del("q")
	b.WriteByte('|')
	b.WriteString(p.Encode())
	if c := a.cursor; c != nil {
		b.WriteString("|" + string(rune(c.kind)) + "." + strconv.FormatInt(c.at, 10) + "." + strconv.FormatInt(c.id, 10) + "." + strconv.Itoa(c.offset))
	}
	return b.String()
}
