package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"text/template/parse"

	"herald/templates"
)

// templateKeys are the keys of every {{t LANG "key"}} call in the page
// templates (public and console), with the file that makes it.
func templateKeys(t *testing.T) map[string]string {
	t.Helper()
	fsys := templates.Embedded()
	files, err := fs.Glob(fsys, "web/*.html")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := fs.Glob(fsys, "web/admin/*.html")
	files = append(files, more...)
	// The functions the pages are parsed with; only their names matter.
	noop := func(...any) string { return "" }
	funcs := template.FuncMap{"t": noop, "add": noop, "eventList": noop}
	keys := map[string]string{}
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := template.New(f).Funcs(funcs).Parse(string(src))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, x := range tpl.Templates() {
			if x.Tree != nil {
				walkT(x.Tree.Root, func(key string) { keys[key] = f })
			}
		}
	}
	if len(keys) < 50 {
		t.Fatalf("found only %d translated keys in the templates: is the parser walking them?", len(keys))
	}
	return keys
}

// walkT calls found with the key of every call of t with a literal key.
func walkT(n parse.Node, found func(string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkT(c, found)
		}
	case *parse.ActionNode:
		walkT(n.Pipe, found)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkT(c, found)
		}
	case *parse.CommandNode:
		if len(n.Args) == 3 {
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == "t" {
				if s, ok := n.Args[2].(*parse.StringNode); ok {
					found(s.Text)
				}
			}
		}
		for _, a := range n.Args {
			walkT(a, found)
		}
	case *parse.IfNode:
		walkT(n.Pipe, found)
		walkT(n.List, found)
		walkT(n.ElseList, found)
	case *parse.RangeNode:
		walkT(n.Pipe, found)
		walkT(n.List, found)
		walkT(n.ElseList, found)
	case *parse.WithNode:
		walkT(n.Pipe, found)
		walkT(n.List, found)
		walkT(n.ElseList, found)
	case *parse.TemplateNode:
		walkT(n.Pipe, found)
	}
}

// goStrings are the string literals of the non-test Go files of web/.
func goStrings(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	fset := token.NewFileSet()
	files, err := filepath.Glob("../*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.Contains(filepath.Base(f), "i18n") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
				if s, err := strconv.Unquote(bl.Value); err == nil {
					out[s] = true
				}
			}
			return true
		})
	}
	return out
}

// dynamicPrefixes start the keys that code builds from a value:
// "sub_err_"+field, "sub_field_"+field, "sub_cadence_"+cadence.
var dynamicPrefixes = []string{"sub_err_", "sub_field_", "sub_cadence_"}

// TestCatalog_EveryLanguageHasEveryKey holds French, Spanish and Arabic to
// the English catalog, both ways, with no empty message.
func TestCatalog_EveryLanguageHasEveryKey(t *testing.T) {
	for _, l := range PageLanguages {
		cat, ok := messages[l.Code]
		if !ok {
			t.Fatalf("no catalog for %s", l.Code)
		}
		for k := range messages["en"] {
			if strings.TrimSpace(cat[k]) == "" {
				t.Errorf("%s lacks %q", l.Code, k)
			}
		}
		for k := range cat {
			if _, ok := messages["en"][k]; !ok {
				t.Errorf("%s has %q, which English lacks", l.Code, k)
			}
		}
	}
	if len(messages) != len(PageLanguages) {
		t.Errorf("catalogs for %d languages, pages in %d", len(messages), len(PageLanguages))
	}
}

// TestCatalog_KeysOfTemplatesExistAndKeysAreUsed finds every key a
// template asks for in the catalog, and a use for every key of the catalog
// (a template, a literal in web's Go code, or a prefix code completes).
func TestCatalog_KeysOfTemplatesExistAndKeysAreUsed(t *testing.T) {
	used := templateKeys(t)
	for k, f := range used {
		if _, ok := messages["en"][k]; !ok {
			t.Errorf("%s asks for %q, which the catalog lacks", f, k)
		}
	}
	lits := goStrings(t)
	for k := range messages["en"] {
		if _, ok := used[k]; ok || lits[k] {
			continue
		}
		if slices.ContainsFunc(dynamicPrefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
			continue
		}
		t.Errorf("%q is in the catalog but nothing uses it", k)
	}
}

// TestCatalog_RightToLeftWords checks that the Arabic catalog is Arabic:
// every message has Arabic letters (not English left in place).
func TestCatalog_RightToLeftWords(t *testing.T) {
	for k, v := range messages["ar"] {
		if !strings.ContainsFunc(v, func(r rune) bool { return r >= 0x0600 && r <= 0x06FF }) {
			t.Errorf("ar %q = %q has no Arabic letter", k, v)
		}
		if v == messages["en"][k] {
			t.Errorf("ar %q is the English text", k)
		}
	}
}

func TestAddMessages_MergesAndRefusesDuplicates(t *testing.T) {
	saved := messages["fr"]
	messages["fr"] = map[string]string{"a": "A"}
	defer func() { messages["fr"] = saved }()
	addMessages("fr", map[string]string{"b": "B"})
	if T("fr", "b") != "B" || T("fr", "a") != "A" {
		t.Fatalf("merge failed: %v", messages["fr"])
	}
	defer func() {
		if recover() == nil {
			t.Error("a duplicate key did not panic")
		}
	}()
	addMessages("fr", map[string]string{"a": "again"})
}
