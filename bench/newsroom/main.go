// Command newsroom is bench/search.sh's helper: it seeds releases straight
// through herald's store (fast enough for 100,000), and measures the
// latency of public pages with a small closed-loop load client.
//
//	newsroom seed -db DSN -n 100000
//	newsroom load -base http://127.0.0.1:8080 -c 4 -n 400
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"herald/releases"
	"herald/store"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: newsroom seed|load [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(os.Args[2:])
	case "load":
		err = load(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "newsroom:", err)
		os.Exit(1)
	}
}

// Words of each language's releases: sentences are drawn from these, so
// that common words (evacuation, réfugiés, إجلاء) match many releases and
// rare ones few.
var vocab = map[string][]string{
	"en": strings.Fields("the organization partners families shelter health protection border arrivals women children appeal funding evacuation displacement registration services documents communities schools clinics water rainy season report review progress region emergency response migrants refugees returns integration labour rights trafficking survivors assistance camps floods drought"),
	"fr": strings.Fields("l'organisation partenaires familles abri santé protection frontière arrivées femmes enfants appel financement évacuation déplacement enregistrement services documents communautés écoles cliniques eau saison pluies rapport examen progrès région urgence réponse migrants réfugiés retours intégration travail droits traite survivants assistance camps inondations sécheresse"),
	"es": strings.Fields("la organización socios familias albergue salud protección frontera llegadas mujeres niños llamamiento financiación evacuación desplazamiento registro servicios documentos comunidades escuelas clínicas agua temporada lluvias informe examen progreso región emergencia respuesta migrantes refugiados retornos integración trabajo derechos trata sobrevivientes asistencia campamentos inundaciones sequía"),
	"ar": strings.Fields("المنظمة الشركاء العائلات المأوى الصحة الحماية الحدود الوافدين النساء الأطفال النداء التمويل إجلاء النزوح التسجيل الخدمات الوثائق المجتمعات المدارس العيادات المياه موسم الأمطار التقرير المراجعة التقدم المنطقة الطوارئ الاستجابة المهاجرين اللاجئين العودة الاندماج العمل الحقوق الاتجار الناجين المساعدة المخيمات الفيضانات الجفاف"),
}

var (
	langs   = []string{"en", "en", "fr", "es", "ar"}
	topics  = []string{"migration", "refugees", "human-trafficking", "emergencies", "displacement", "integration"}
	regions = []string{"argentina", "mali", "greece", "", "americas", "europe", "bangladesh", "yemen", "haiti", "ukraine"}
)

func sentence(r *rand.Rand, lang string, n int) string {
	words := vocab[lang]
	out := make([]string, n)
	for i := range out {
		// Zipf-like: early words are common, late ones rare.
		out[i] = words[min(len(words)-1, int(r.ExpFloat64()*8))]
	}
	rs := []rune(strings.Join(out, " "))
	rs[0] = unicode.ToUpper(rs[0])
	return string(rs) + "."
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dsn := fs.String("db", "", "HERALD_DB of the database to fill")
	n := fs.Int("n", 100000, "releases")
	_ = fs.Parse(args)
	ctx := context.Background()
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	rel := releases.New(db, releases.Options{})
	if _, err := rel.EnsureDefaultTaxonomy(ctx); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	t0 := time.Now().Add(-time.Duration(*n) * 20 * time.Minute) // one every 20 minutes, up to now
	const batch = 500
	for done := 0; done < *n; done += batch {
		var rs []store.Release
		for i := done; i < min(*n, done+batch); i++ {
			lang := langs[r.IntN(len(langs))]
			title := sentence(r, lang, 6+r.IntN(6))
			var body strings.Builder
			for p := 0; p < 4; p++ {
				body.WriteString("<p>")
				for k := 0; k < 3; k++ {
					body.WriteString(sentence(r, lang, 12+r.IntN(10)) + " ")
				}
				body.WriteString("</p>\n")
			}
			at := t0.Add(time.Duration(i) * 20 * time.Minute)
			x := store.Release{
				GUID: fmt.Sprintf("urn:uuid:bench-%d", i), Slug: fmt.Sprintf("bench-%d", i), Title: title,
				Summary: sentence(r, lang, 20), SummaryDerived: true, Body: body.String(), BodyFormat: "html", BodyHTML: body.String(),
				Language: lang, Topics: []string{topics[r.IntN(len(topics))]}, Status: "published",
				PublishedAt: at, LiveAt: at, CreatedAt: at, UpdatedAt: at,
			}
			if g := regions[r.IntN(len(regions))]; g != "" {
				x.Regions = []string{g}
			}
			rs = append(rs, x)
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for i := range rs {
				c := rs[i]
				if err := tx.InsertRelease(ctx, &c); err != nil {
					return err
				}
				// An archive, announced long ago: herald serve must not
				// spend the measured minutes queuing 100,000 automatic
				// alerts to nobody.
				if err := tx.MarkAutoAlerted(ctx, c.ID, c.LiveAt); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if (done/batch)%20 == 0 {
			fmt.Fprintf(os.Stderr, "\r%d / %d releases", done+len(rs), *n)
		}
	}
	fmt.Fprintf(os.Stderr, "\r%d releases seeded in %s\n", *n, time.Since(start).Round(time.Second))
	return nil
}

// cases are the pages measured: archive, filtered archive, term pages,
// searches common and rare, in four languages.
var cases = []string{
	"/releases",
	"NEXT:/releases",
	"/releases?topic=migration&lang=fr",
	"/releases?region=mali&from=2020-01-01&to=2030-12-31",
	"/regions/europe",
	"/topics/human-trafficking",
	"/releases?q=shelter&lang=en",
	"/search?q=evacuation",
	"/search?q=" + "r%C3%A9fugi%C3%A9s+sant%C3%A9",
	"/search?q=%D8%A5%D8%AC%D9%84%D8%A7%D8%A1",
	"/search?q=drought+floods",
	"/search?q=zzznotfound",
	"/search?q=evacuation&topic=emergencies&lang=es",
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	base := fs.String("base", "http://127.0.0.1:8080", "herald's URL")
	conc := fs.Int("c", 4, "concurrent clients")
	n := fs.Int("n", 400, "requests per page")
	fresh := fs.Bool("fresh", false, "make every request a page no one asked before (a date bound past every release, one day later each time): herald's cache of result pages never answers")
	_ = fs.Parse(args)
	var seq atomic.Int64
	page := func(path string) string {
		if !*fresh {
			return path
		}
		to := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(seq.Add(1))).Format("2006-01-02")
		if strings.Contains(path, "to=2030-12-31") {
			return strings.Replace(path, "to=2030-12-31", "to="+to, 1)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return path + sep + "to=" + to
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc}}
	fmt.Printf("%-58s %8s %8s %8s %8s\n", "page", "p50 ms", "p95 ms", "p99 ms", "results")
	for _, c := range cases {
		path := c
		if p, ok := strings.CutPrefix(c, "NEXT:"); ok {
			body, err := get(client, *base+p)
			if err != nil {
				return err
			}
			m := regexp.MustCompile(`rel="next" href="([^"]+)"`).FindStringSubmatch(body)
			if m == nil {
				return fmt.Errorf("%s has no next page", p)
			}
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		body, err := get(client, *base+path)
		if err != nil {
			return err
		}
		results := strings.Count(body, "<h2><a href=\"/releases/")
		for range 10 { // warm up
			if _, err := get(client, *base+page(path)); err != nil {
				return err
			}
		}
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		var firstErr error
		per := *n / *conc
		for range *conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range per {
					u := *base + page(path)
					t := time.Now()
					_, err := get(client, u)
					d := time.Since(t)
					mu.Lock()
					if err != nil && firstErr == nil {
						firstErr = err
					}
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		slices.Sort(lat)
		q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		name := c
		if len(name) > 58 {
			name = name[:58]
		}
		fmt.Printf("%-58s %8.1f %8.1f %8.1f %8d\n", name, q(.50), q(.95), q(.99), results)
	}
	return nil
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return string(b), nil
}
