package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/internal/logtest"
	"github.com/mfatriage/triage/internal/redistest"
)

// startSandbox runs `triage fakejira --listen 127.0.0.1:0 args...` until
// the test ends and returns its URL and output.
func startSandbox(t *testing.T, args ...string) (string, *logtest.Buffer) {
	t.Helper()
	out := &logtest.Buffer{}
	cmd := newRootCmd()
	cmd.SetOut(out)
	cmd.SetErr(out)
	cmd.SetArgs(append([]string{"fakejira", "--listen", "127.0.0.1:0"}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fakejira: %v", err)
		}
	})
	re := regexp.MustCompile(`sandbox Jira \(\w+\) on (http://\S+):`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], out
		}
		select {
		case err := <-done:
			t.Fatalf("fakejira ended: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("fakejira did not start:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sandboxCall sends one REST call to the sandbox, as the bot (basic auth)
// or, with as set, as that user (X-Sandbox-User).
func sandboxCall(t *testing.T, method, url, as, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if as != "" {
		req.Header.Set(jiratest.HeaderSandboxUser, as)
	} else {
		req.SetBasicAuth("bot@example.com", "sandbox-token")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestSandboxWithServe: `triage fakejira`, started as a person would with
// a webhook URL and secret, and `triage serve` on the same secret. An issue
// filed through POST /rest/api/2/issue gets the bot's reply, read back
// through GET …/comment, within seconds; the reporter's "I did all of that
// and it still fails" puts the ticket in `triage escalations list --json`;
// the evidence note is marked internal (a Service Management project). In
// both flavors' webhook shapes.
func TestSandboxWithServe(t *testing.T) {
	t.Parallel()
	for _, flavor := range []string{"cloud", "datacenter"} {
		t.Run(flavor, func(t *testing.T) {
			t.Parallel()
			redistest.Options(t)
			var b [4]byte
			_, _ = rand.Read(b[:])
			proj := "S"
			for _, c := range b[:4] {
				proj += string(rune('A' + c%26))
			}
			secret := "sandbox-" + hex.EncodeToString(b[:])
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			// proj is a Service Management project, soft a software one
			soft := "W" + proj[1:]
			jiraURL, jiraOut := startSandbox(t, "--flavor", flavor, "--webhook-url", "http://"+ln.Addr().String()+intake.WebhookPath,
				"--webhook-secret", secret, "--bot-account-id", "sandbox-bot", "--token", "sandbox-token", "--project", proj+"=service_desk",
				"--project", soft+"=software")

			cfg := config{
				RedisURL: redistest.URL(), JiraBaseURL: jiraURL, BotAccountID: "sandbox-bot", WebhookSecret: secret,
				Queue: "sandbox-" + strings.ToLower(proj), Concurrency: 2, ShutdownTimeout: 5 * time.Second, FollowupWindow: time.Hour,
				InternalVisibility: "role:Administrators",
			}
			if flavor == "datacenter" {
				cfg.JiraPAT = "sandbox-token"
			} else {
				cfg.JiraEmail, cfg.JiraAPIToken = "bot@example.com", "sandbox-token"
			}
			cfg.defaults()
			logs, _ := runServe(t, cfg, ln, proj)
			fail := func(format string, args ...any) {
				t.Helper()
				t.Fatalf(format+"\nserve's logs:\n%s\nsandbox:\n%s", append(args, logs.String(), jiraOut.String())...)
			}

			for _, project := range []string{proj, soft} {
				code, body := sandboxCall(t, "POST", jiraURL+"/rest/api/2/issue", "alice",
					fmt.Sprintf(`{"fields":{"project":{"key":%q},"summary":"Passkey not accepted","description":"Defender says my passkey can no longer be used"}}`, project))
				var created struct{ ID, Key string }
				if json.Unmarshal(body, &created); code != http.StatusCreated || created.Key != project+"-1" || created.ID == "" {
					fail("POST /rest/api/2/issue = %d %s", code, body)
				}
				type comment struct {
					Author     struct{ AccountID, Name string }
					Body       string
					JSDPublic  *bool
					Visibility *struct{ Type, Value string }
					Properties []struct {
						Key   string
						Value struct{ Internal bool }
					}
				}
				botComments := func() []comment {
					code, body := sandboxCall(t, "GET", jiraURL+"/rest/api/2/issue/"+created.Key+"/comment?expand=properties", "", "")
					var page struct{ Comments []comment }
					if err := json.Unmarshal(body, &page); err != nil || code != http.StatusOK {
						fail("GET …/comment = %d %s", code, body)
					}
					var out []comment
					for _, c := range page.Comments {
						if c.Author.AccountID == "sandbox-bot" || c.Author.Name == "sandbox-bot" {
							out = append(out, c)
						}
					}
					return out
				}
				until := func(what string, cond func() bool) {
					t.Helper()
					for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
						if time.Now().After(deadline) {
							fail("timed out waiting for %s", what)
						}
					}
				}
				start := time.Now()
				until("the bot's reply", func() bool { return len(botComments()) == 1 })
				if reply := botComments()[0]; !strings.Contains(reply.Body, "passkey") {
					t.Errorf("the bot's reply: %q", reply.Body)
				}
				t.Logf("%s: the bot replied %v after the issue was filed", flavor, time.Since(start).Round(time.Millisecond))

				if code, body := sandboxCall(t, "POST", jiraURL+"/rest/api/2/issue/"+created.Key+"/comment", "alice", `{"body":"I did all of that and it still fails"}`); code != http.StatusCreated {
					fail("the reporter's comment = %d %s", code, body)
				}
				cfgPath := filepath.Join(t.TempDir(), "triage.yaml")
				cfgText := fmt.Sprintf("redis_url: %s\njira_base_url: %s\njira_email: bot@example.com\njira_api_token: sandbox-token\nbot_account_id: sandbox-bot\n", cfg.RedisURL, jiraURL)
				if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
					t.Fatal(err)
				}
				until("the escalation", func() bool {
					out, err := run(t, "", "escalations", "list", "--json", "--config", cfgPath)
					return err == nil && strings.Contains(out, `"`+created.Key+`:mfa-reset"`)
				})
				// the escalation's evidence note: internal in a Service
				// Management project, restricted to the role in a software one
				// (where the sandbox, as Jira, ignores sd.public.comment)
				var internal, restricted int
				// the note follows the escalation's record: steps, notice, note
				until("the evidence note", func() bool {
					internal, restricted = 0, 0
					cs := botComments()
					for _, c := range cs {
						for _, p := range c.Properties {
							if p.Key == "sd.public.comment" && p.Value.Internal && (c.JSDPublic == nil || !*c.JSDPublic) {
								internal++
							}
						}
						if v := c.Visibility; v != nil && v.Type == "role" && v.Value == "Administrators" {
							restricted++
						}
					}
					return len(cs) == 3
				})
				if project == proj && (internal != 1 || restricted != 0) {
					t.Errorf("%s: %d internal and %d restricted notes among the bot's comments, want 1 and 0: %+v", project, internal, restricted, botComments())
				}
				if project == soft && (restricted != 1 || internal != 0) {
					t.Errorf("%s: %d restricted and %d internal notes among the bot's comments, want 1 and 0: %+v", project, restricted, internal, botComments())
				}
			}
		})
	}
}

// TestFakeJiraSeed: --seed files a corpus's tickets as issues of the first
// project, sending no webhooks; on the datacenter flavor they are found
// through /rest/api/2/search, and /search/jql answers 404.
func TestFakeJiraSeed(t *testing.T) {
	t.Parallel()
	corpus := filepath.Join("..", "..", "testdata", "corpus", "languages.jsonl")
	data, err := os.ReadFile(corpus)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Count(strings.TrimSpace(string(data)), "\n") + 1
	url, out := startSandbox(t, "--flavor", "datacenter", "--token", "sandbox-token", "--seed", corpus, "--project", "IT=service_desk", "--project", "DEV=software")
	if !strings.Contains(out.String(), fmt.Sprintf("seeded %d issues into IT from %s", want, corpus)) || !strings.Contains(out.String(), "DEV (software)") {
		t.Errorf("fakejira's output:\n%s", out.String())
	}
	code, body := sandboxCall(t, "GET", url+"/rest/api/2/search?jql=project%3DIT&maxResults=1&fields=summary", "", "")
	var page struct{ Total int }
	if json.Unmarshal(body, &page); code != http.StatusOK || page.Total != want {
		t.Errorf("GET /search = %d %s, want %d issues", code, body, want)
	}
	if code, _ := sandboxCall(t, "GET", url+"/rest/api/2/search/jql?jql=project%3DIT", "", ""); code != http.StatusNotFound {
		t.Errorf("GET /search/jql on Data Center = %d, want 404", code)
	}
	if strings.Contains(out.String(), "webhook ") {
		t.Errorf("seeding sent webhooks:\n%s", out.String())
	}
	if code, body := sandboxCall(t, "GET", url+"/", "", ""); code != http.StatusOK || !strings.Contains(string(body), "IT-1") {
		t.Errorf("GET / = %d", code)
	}
}
