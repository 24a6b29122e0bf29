package deploy

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestGrafanaDashboardNamesRealMetrics checks that every metric the shipped
// dashboard queries is one triage exports, so a renamed metric cannot leave
// an empty panel behind.
func TestGrafanaDashboardNamesRealMetrics(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("grafana/triage-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	src, err := os.ReadFile("../internal/metrics/metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, m := range regexp.MustCompile(`"(triage_[a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		exported[m[1]] = true
	}
	name := regexp.MustCompile(`triage_[a-z_]+`)
	var missing []string
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				n = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
				if !exported[n] {
					missing = append(missing, p.Title+": "+n)
				}
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the dashboard queries metrics triage does not export:\n%s", strings.Join(missing, "\n"))
	}
	if !exported["triage_decisions_total"] {
		t.Error("triage_decisions_total is not exported")
	}
}
