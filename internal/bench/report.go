package bench

import (
	"fmt"
	"io"
	"time"
)

// print writes the table and the summary line.
func (r Result) print(out io.Writer, o Options) {
	fmt.Fprintf(out, "  pipeline (webhook → intake → Redis → worker → fake Jira, one process)\n")
	fmt.Fprintf(out, "    tickets processed      %d of %d (replied %d, escalated %d, suggested to agents %d, left to humans %d, resolved %d); webhook errors %d; tasks failed %d\n",
		r.Processed, r.Tickets, r.Replied, r.Escalated, r.Suggested, r.Human, r.Resolved, r.WebhookErrors, r.Failed)
	if r.FirstWebhookError != "" {
		fmt.Fprintf(out, "    first webhook error    %s\n", r.FirstWebhookError)
	}
	fmt.Fprintf(out, "    webhooks sent          %s/s (%s s)\n", num(r.SentPerSec), num(r.SendElapsed.Seconds()))
	fmt.Fprintf(out, "    throughput             %s tickets/s (first webhook → last Jira write: %s s); %s tickets/s from the first Jira write to the last\n",
		num(r.TicketsPerSec), num(r.Elapsed.Seconds()), num(r.BusyPerSec))
	fmt.Fprintf(out, "    webhook → comment      p50 %s ms, p95 %s ms, p99 %s ms, max %s ms (%d tickets with a comment)\n",
		ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max), r.LatencySamples)
	fmt.Fprintf(out, "    Jira                   %d calls, %d writes; %s writes per replied ticket; %s calls per ticket\n",
		r.JiraCalls, r.JiraWrites, num(r.WritesPerReplied), num(r.CallsPerTicket))
	fmt.Fprintf(out, "    memory                 peak RSS (VmHWM) %s MiB, RSS now %s MiB, Go heap in use %s MiB (intake, worker, fake Jira and load generator together)\n",
		num(r.RSSPeakMiB), num(r.RSSNowMiB), num(r.HeapInuseMiB))
	fmt.Fprintf(out, "    warnings and errors    %d logged\n", r.Warnings)
	for _, w := range r.FirstWarnings {
		fmt.Fprintf(out, "      %s\n", w)
	}
	fmt.Fprintf(out, "  raw asynq (no-op handler, concurrency %d, same Redis)\n", o.Concurrency)
	fmt.Fprintf(out, "    throughput             %s tasks/s (%d tasks in %s s; enqueued at %s/s beforehand)\n",
		num(r.RawPerSec), r.RawTasks, num(r.RawElapsed.Seconds()), num(r.RawEnqueuePerSec))
	fmt.Fprintf(out, "  targets (issue 6)\n")
	if o.Rate > 0 {
		fmt.Fprintf(out, "    pipeline ≥ 0.5 × raw asynq   not judged at a fixed rate: tickets/s is the offered rate (ratio %s)\n", num(r.Ratio))
	} else {
		fmt.Fprintf(out, "    pipeline ≥ 0.5 × raw asynq   %s (ratio %s)\n", verdict(r.Ratio >= 0.5), num(r.Ratio))
	}
	if o.Rate > 0 && o.Rate <= 200 {
		fmt.Fprintf(out, "    p99 ≤ 50 ms at 200/s         %s (p99 %s ms at %s/s)\n", verdict(r.P99 <= 50*time.Millisecond), ms(r.P99), num(o.Rate))
	} else {
		fmt.Fprintf(out, "    p99 ≤ 50 ms at 200/s         not measured here (run with --rate 200)\n")
	}
	fmt.Fprintf(out, "    1 Jira write per reply       %s (%s)\n", verdict(r.Replied > 0 && r.WritesPerReplied <= 1), num(r.WritesPerReplied))
	fmt.Fprintf(out, "    RSS ≤ 64 MiB, 10k queued     see triage bench --queued 10000\n")
	fmt.Fprintln(out, r.Line())
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
