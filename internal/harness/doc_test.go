package harness

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/xagent/perfharness/"

// imports are the module's packages dir's non-test files import, by their
// last path element.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			if p := strings.Trim(imp.Path.Value, `"`); strings.HasPrefix(p, modulePath) {
				set[filepath.Base(p)] = true
			}
		}
	}
	var names []string
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// TestDesignTableIsTrue checks the package table of the design page (doc.go)
// against the code: every package listed exists, imports exactly what its row
// says, and every internal package is listed.
func TestDesignTableIsTrue(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`^//\t((?:internal|scripts)/[a-z-]+|perf) {2,}.+? {2,}(.+)$`)
	rows := map[string][]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var want []string
		if m[2] != "—" {
			want = strings.Fields(m[2])
		}
		rows[m[1]] = want
	}
	if len(rows) < 15 {
		t.Fatalf("read %d rows of the package table", len(rows))
	}
	root := "../.."
	internal, err := filepath.Glob(filepath.Join(root, "internal", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, dir := range internal {
		name := filepath.Base(dir)
		switch name {
		case "browsertest", "readmetest": // test support, no production code
			continue
		}
		all = append(all, name)
		if _, ok := rows["internal/"+name]; !ok {
			t.Errorf("internal/%s is not in the design page's package table", name)
		}
	}
	for pkg, want := range rows {
		if pkg == "internal/harness" {
			// "every internal package but merge, xagent"
			want = nil
			for _, n := range all {
				if n != "harness" && n != "merge" && n != "xagent" {
					want = append(want, n)
				}
			}
		}
		slices.Sort(want)
		if got := imports(t, filepath.Join(root, pkg)); !slices.Equal(got, want) {
			t.Errorf("%s imports %v; the design page says %v", pkg, got, want)
		}
	}
}
