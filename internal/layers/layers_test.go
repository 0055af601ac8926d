package layers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const domains = "github.com/ovnrun/ovnrun/builtins/"

// labDomainFiles are the files of internal/lab that may import a domain:
// the lab's VM driver, which drives the virt domain's actions.
var labDomainFiles = []string{"nsvm.go", "nsvmdestroy.go"}

// imports returns the imports of each non-test Go file under dir (relative to
// the repository root), by file path. Reading the files here, rather than
// through `go list` in a subprocess, lets go test's cache see them change.
// Build constraints are ignored: a file for any platform counts.
func imports(t *testing.T, dir string) map[string][]string {
	t.Helper()
	root := filepath.Join("../..", dir)
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../..", path)
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			out[filepath.ToSlash(rel)] = append(out[filepath.ToSlash(rel)], imp)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no Go files under %s", dir)
	}
	return out
}

// TestNothingBelowTheDomainsImportsOne checks every file under interp,
// internal and stdlib: none imports a domain, but the lab's VM driver. With
// every file checked, no package reaches a domain through another either
// (go list -deps ./internal/topo ./interp lists no builtins/ package).
func TestNothingBelowTheDomainsImportsOne(t *testing.T) {
	for _, dir := range []string{"interp", "internal", "stdlib"} {
		for file, imps := range imports(t, dir) {
			for _, imp := range imps {
				if !strings.HasPrefix(imp, domains) {
					continue
				}
				if filepath.Dir(file) == "internal/lab" && slices.Contains(labDomainFiles, filepath.Base(file)) {
					continue
				}
				t.Errorf("%s imports the domain %s: give it what it needs through an interface the domain implements", file, imp)
			}
		}
	}
}

// TestDomainsImportNoOtherDomain: hosts reach the ovn domain as
// *interp.Host; a domain never imports another.
func TestDomainsImportNoOtherDomain(t *testing.T) {
	for file, imps := range imports(t, "builtins") {
		self := domains + strings.Split(file, "/")[1]
		for _, imp := range imps {
			if strings.HasPrefix(imp, domains) && imp != self && !strings.HasPrefix(imp, self+"/") {
				t.Errorf("%s (domain %s) imports the domain %s", file, self, imp)
			}
		}
	}
}
