package remote

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// inventoryErrorRE is how every line of an inventory error starts.
var inventoryErrorRE = regexp.MustCompile(`^inventory fuzz\.json:(\d+): `)

// FuzzParseInventory feeds arbitrary files to the inventory reader, seeded
// with the documented example and torn or hostile variants of it. Any file
// may be refused; none may panic, and every refusal names a line of the file.
func FuzzParseInventory(f *testing.F) {
	doc, err := os.ReadFile("../../docs/hosts.md")
	if err != nil {
		f.Fatal(err)
	}
	example := string(doc)
	example = example[strings.Index(example, "```json\n")+8:]
	example = example[:strings.Index(example, "```")]
	for _, seed := range []string{
		example,
		example[:len(example)/2],
		strings.Replace(example, "2222", "1e400", 1),
		strings.Replace(example, "2222", "-99999999999999999999", 1),
		strings.Replace(example, `"lab"`, `"l\u0000ab"`, 1),
		strings.Replace(example, `"lab"`, "\"l\xffab\"", 1),
		strings.Replace(example, `"lab"`, `{"a":[[[{"b":null}]]]}`, 1),
		strings.Replace(example, `"h0"`, `"password"`, 1),
		`{"hosts": {"me": {"local": true, "address": "10.0.0.5"}}}`,
		`{"hosts": [{"hosts": {"x": 1}}]}`,
		`[{"hosts": {"h": {"x": 1}}}]`,
		"{}\x00",
		`{"hosts": null} {}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := ParseInventory("fuzz.json", data, "/etc/lab")
		if err != nil {
			lines := 1 + bytes.Count(data, []byte("\n"))
			for _, msg := range strings.Split(err.Error(), "\n") {
				m := inventoryErrorRE.FindStringSubmatch(msg)
				if m == nil {
					t.Fatalf("error does not name file:line: %q", msg)
				}
				if n, _ := strconv.Atoi(m[1]); n < 1 || n > lines {
					t.Fatalf("error names line %d of %d: %q", n, lines, msg)
				}
			}
			return
		}
		for name := range inv.Hosts {
			inv.Apply(Target{Name: name, Address: "192.0.2.1", Port: 22})
		}
	})
}
