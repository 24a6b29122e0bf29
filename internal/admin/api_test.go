package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/internal/admin"
	"github.com/mfatriage/triage/internal/escalation"
)

func TestAPIReads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-31", "mfa-reset", 2*time.Hour)
	e.seed("HD-32", "password-reset", 10*time.Minute)

	status, data, h := e.api("GET", "/api/escalations?status=open&min_age=1h", testToken, "")
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("list: %d %s", status, data)
	}
	page := decode[escalation.Page](t, data)
	if len(page.Records) != 1 || page.Records[0].ID != id || page.Total != 1 || page.Records[0].Evidence[0].Text != "I lost my phone on the train" {
		t.Errorf("list = %+v", page)
	}
	status, data, _ = e.api("GET", "/api/escalations?limit=1&offset=1", testToken, "")
	if page := decode[escalation.Page](t, data); status != 200 || page.Total != 2 || len(page.Records) != 1 || page.Records[0].Key != "HD-32" || page.Limit != 1 || page.Offset != 1 {
		t.Errorf("second page: %d %+v", status, page)
	}

	status, data, _ = e.api("GET", "/api/escalations/counts", testToken, "")
	if diff := cmp.Diff(map[string]int{"open": 2, "acknowledged": 0, "done": 0, "returned": 0}, decode[map[string]int](t, data)); status != 200 || diff != "" {
		t.Errorf("counts: %d (-want +got)\n%s", status, diff)
	}

	for _, path := range []string{"/api/escalations/HD-31:mfa-reset", "/api/escalations/HD-31%3Amfa-reset"} {
		status, data, _ = e.api("GET", path, testToken, "")
		if r := decode[escalation.Record](t, data); status != 200 || r.ID != id || r.Status != "open" || len(r.History) != 1 {
			t.Errorf("GET %s: %d %+v", path, status, r)
		}
	}

	tests := []struct {
		path       string
		wantStatus int
		wantError  string
	}{
		{"/api/escalations/HD-99:mfa-reset", 404, "no such escalation"},
		{"/api/escalations?status=closed", 400, `status "closed"`},
		{"/api/escalations?reason=whim", 400, `reason "whim"`},
		{"/api/escalations?min_age=yesterday", 400, "min_age"},
		{"/api/escalations?limit=0", 400, "limit"},
		{"/api/escalations?limit=501", 400, "limit"},
		{"/api/escalations?offset=x", 400, "offset"},
	}
	for _, tt := range tests {
		status, data, _ := e.api("GET", tt.path, testToken, "")
		got := decode[admin.ErrorResponse](t, data)
		if status != tt.wantStatus || !strings.Contains(got.Error, tt.wantError) {
			t.Errorf("GET %s: %d %q, want %d with %q", tt.path, status, got.Error, tt.wantStatus, tt.wantError)
		}
	}
}

func TestAPIActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-33", "mfa-reset", time.Hour)
	other := e.seed("HD-34", "mfa-reset", time.Hour)
	base := "/api/escalations/" + id
	type answer struct {
		Status  int
		Changed bool
		Record  string // status of the record
		Error   string // a part of the error
	}
	steps := []struct {
		path, body string
		want       answer
	}{
		{base + "/ack", "", answer{200, true, "acknowledged", ""}},
		{base + "/ack", `{"actor":"helpdesk-bot"}`, answer{200, false, "acknowledged", ""}},
		{base + "/return", `{}`, answer{400, false, "", "a note for the agents is required"}},
		{base + "/done", `{"actor":"script"}`, answer{200, true, "done", ""}},
		{base + "/done", `{"actor":"script"}`, answer{200, false, "done", ""}},
		{base + "/return", `{"note":"too late"}`, answer{200, false, "done", ""}},
		{base + "/close", `{}`, answer{404, false, "", "no such action"}},
		{base + "/done", `{"actr":"typo"}`, answer{400, false, "", "unknown field"}},
		{base + "/done", `{"actor":"a"} {"actor":"b"}`, answer{400, false, "", "more than one"}},
		{base + "/done", `{"actor":"line\nbreak"}`, answer{400, false, "", "actor"}},
		{"/api/escalations/HD-99:mfa-reset/done", "", answer{404, false, "", "no such escalation"}},
		{"/api/escalations/" + other + "/return", `{"note":"Licence problem, not MFA","actor":"Ann"}`, answer{200, true, "returned", ""}},
	}
	for i, st := range steps {
		status, data, _ := e.api("POST", st.path, testToken, st.body)
		got := answer{Status: status}
		if status == 200 {
			a := decode[admin.ActionResponse](t, data)
			got.Changed, got.Record = a.Changed, a.Record.Status
		} else {
			got.Error = decode[admin.ErrorResponse](t, data).Error
			if strings.Contains(got.Error, st.want.Error) {
				got.Error = st.want.Error
			}
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("step %d POST %s %s: (-want +got)\n%s", i, st.path, st.body, diff)
		}
	}
	public, internal := e.comments("HD-33")
	if len(public) != 1 || len(internal) != 0 {
		t.Errorf("HD-33: %d public, %d internal comments; want one reporter comment", len(public), len(internal))
	}
	if _, internal := e.comments("HD-34"); len(internal) != 1 || !strings.Contains(internal[0].Body, "Licence problem") {
		t.Errorf("HD-34: internal comments %+v, want the note", internal)
	}
	var actors []string
	for _, a := range e.record(id).History {
		actors = append(actors, a.Status+" by "+a.Actor)
	}
	if diff := cmp.Diff([]string{"open by triage", "acknowledged by api", "done by script"}, actors); diff != "" {
		t.Errorf("history (-want +got)\n%s", diff)
	}
}

func TestAPIBusyIsConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-35", "mfa-reset", time.Hour)
	// another admin's action holds the escalation's lock
	if err := e.rdb.Set(context.Background(), e.prefix+"esc:lock:"+id, "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	status, data, _ := e.api("POST", "/api/escalations/"+id+"/done", testToken, "")
	if status != http.StatusConflict || !strings.Contains(string(data), "try again") {
		t.Errorf("done while busy: %d %s, want 409", status, data)
	}
	// and on the page: back to the detail with a message
	b := e.browser()
	tok := b.login("Ada Admin")
	p := b.post("/escalations/"+id+"/done", map[string][]string{"csrf": {tok}})
	if p.Location != "/escalations/HD-35:mfa-reset?flash=busy" {
		t.Errorf("page done while busy: %d %q", p.Status, p.Location)
	}
	mustContain(t, "detail", b.get(p.Location).Body, "Another action on this escalation is running")
	if len(e.jira.Comments("HD-35")) != 0 || e.record(id).Status != "open" {
		t.Error("a busy escalation was changed")
	}
}
