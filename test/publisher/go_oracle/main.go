// Oracle for test/publisher/template_compat.test.ts: runs every case of
// ../fixtures/template_corpus.json through Go's own text/template and
// writes what Go produced (output, or the phase and message of the error)
// to ../golden/go_oracle.json. Needs only a Go toolchain (Debian's
// golang-go): `go run main.go` in this directory. JSON numbers that are
// integral become ints, others float64, which is how the TypeScript engine
// treats JavaScript numbers.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"
)

type testCase struct {
	Name string      `json:"name"`
	Tmpl string      `json:"tmpl"`
	Data interface{} `json:"data"`
}

type result struct {
	Name   string `json:"name"`
	Output string `json:"output,omitempty"`
	Phase  string `json:"phase,omitempty"`
	Error  string `json:"error,omitempty"`
}

func normalise(v interface{}) interface{} {
	switch x := v.(type) {
	case map[string]interface{}:
		for k, e := range x {
			x[k] = normalise(e)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = normalise(e)
		}
		return x
	case float64:
		if x == float64(int64(x)) && x < 1e15 && x > -1e15 {
			return int(x)
		}
		return x
	}
	return v
}

func main() {
	raw, err := os.ReadFile("../fixtures/template_corpus.json")
	if err != nil {
		panic(err)
	}
	var cases []testCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		panic(err)
	}
	out := []result{}
	for _, c := range cases {
		r := result{Name: c.Name}
		t, err := template.New("t").Parse(c.Tmpl)
		if err != nil {
			r.Phase, r.Error = "parse", err.Error()
		} else {
			var b strings.Builder
			if err := t.Execute(&b, normalise(c.Data)); err != nil {
				r.Phase, r.Error = "exec", err.Error()
			} else {
				r.Output = b.String()
			}
		}
		out = append(out, r)
	}
	enc, _ := json.MarshalIndent(out, "", "  ")
	if err := os.WriteFile("../golden/go_oracle.json", append(enc, '\n'), 0o644); err != nil {
		panic(err)
	}
	fmt.Printf("%d cases\n", len(out))
}
