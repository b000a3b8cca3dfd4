package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// Migration 0021: a follow of a remote account made before activities
// were sent becomes a request with a Follow to send; follows between local
// accounts, and remote follows made since, stay.
func TestUnconfirmedRemoteFollowsBecomeRequests(t *testing.T) {
	sqliteOnly(t, "it replays a migration older than PostgreSQL support: no PostgreSQL database was ever at that version")
	ctx := context.Background()
	f := newCounterFixture(t, 2)
	local, other := f.accounts[0], f.accounts[1]
	remote, _ := f.remoteAt(t, "bob", "b.example", nil)
	confirmed, _ := f.remoteAt(t, "cy", "c.example", nil)
	now := time.Now()
	for _, fl := range []struct {
		target int64
		uri    string
	}{{remote, ""}, {other, ""}, {confirmed, "https://example.test/users/x#follows/9"}} {
		if _, err := f.s.Follow(ctx, f.id(), local, fl.target, FollowOptions{ShowReblogs: true, URI: fl.uri}, now); err != nil {
			t.Fatal(err)
		}
	}
	// As on an instance migrated to 0020: the migrations from 0021 on
	// run again (those after it undone first).
	if _, err := f.s.write.db.ExecContext(ctx, `DROP TABLE fanout_pending; CREATE INDEX home_feed_author ON home_feed (account_id, author_id);
		DROP INDEX follows_remote; ALTER TABLE follows DROP COLUMN remote;
		DROP INDEX accounts_fanout_on_read; ALTER TABLE accounts DROP COLUMN fanout_on_read; DROP TABLE id_workers; ALTER TABLE jobs DROP COLUMN claimed_by;
		DROP INDEX media_attachments_processing; ALTER TABLE media_attachments DROP COLUMN processed_by; DROP TABLE rate_limits;
		DROP TABLE announcement_reactions; DROP TABLE announcement_dismissals; DROP TABLE announcements; DROP TABLE custom_emojis;
		DROP TABLE tag_follows; DROP TABLE featured_tags; DROP INDEX account_stats_last_status;
		DROP TABLE markers; DROP TABLE suggestion_dismissals;
		DROP TABLE poll_votes; DROP TABLE poll_options; DROP TABLE polls;
		DROP TABLE notification_permissions; DROP TABLE notification_requests; DROP TABLE notification_policies;
		DROP INDEX notifications_filtered; DROP INDEX notifications_group;
		ALTER TABLE notifications DROP COLUMN filtered; ALTER TABLE notifications DROP COLUMN group_key;
		DROP TABLE account_conversations; DROP TABLE conversation_statuses; DROP INDEX media_scheduled; ALTER TABLE media_attachments DROP COLUMN scheduled_status_id;
		ALTER TABLE media_attachments DROP COLUMN detached_at; DROP TABLE scheduled_statuses;
		DROP TABLE filter_statuses; DROP TABLE filter_keywords; DROP TABLE filters;
		DROP TABLE account_notes; DROP TABLE conversation_mutes;
		DROP INDEX reports_account; DROP INDEX reports_target; ALTER TABLE reports DROP COLUMN category; ALTER TABLE reports DROP COLUMN rule_ids;
		ALTER TABLE reports DROP COLUMN forwarded; ALTER TABLE reports DROP COLUMN assigned_account_id;
		ALTER TABLE reports DROP COLUMN action_taken_by_account_id; ALTER TABLE reports DROP COLUMN updated_at; ALTER TABLE notifications DROP COLUMN report_id;
		DROP TABLE list_accounts; DROP TABLE lists; DROP TABLE account_pins; DROP TABLE account_domain_blocks;
		DROP INDEX accounts_suspended; ALTER TABLE accounts DROP COLUMN suspended_at; ALTER TABLE accounts DROP COLUMN sensitized_at;
		DROP TABLE push_subscriptions;
		DROP TABLE pending_sign_ins; DROP TABLE recovery_codes; DROP TABLE totp_factors;
		DROP TABLE passkey_ceremonies; DROP TABLE passkey_handles; DROP TABLE passkeys;
		DROP TABLE security_events; ALTER TABLE sessions DROP COLUMN last_seen_at; ALTER TABLE oauth_tokens DROP COLUMN last_used_at; ALTER TABLE oauth_tokens DROP COLUMN expires_at;
		ALTER TABLE accounts DROP COLUMN indexable;
		DELETE FROM schema_migrations WHERE version >= 21`); err != nil {
		t.Fatal(err)
	}
	f.s.Close()
	f.s = open(t, f.path)
	rel, err := f.s.Relationships(ctx, local, []int64{remote, other, confirmed})
	if err != nil {
		t.Fatal(err)
	}
	if rel[remote].Following || !rel[remote].Requested {
		t.Errorf("the unconfirmed remote follow: %+v; want a request", rel[remote])
	}
	if !rel[other].Following || !rel[confirmed].Following {
		t.Errorf("the local follow %+v and the confirmed one %+v; want both kept", rel[other], rel[confirmed])
	}
	jobs, err := f.s.ClaimJobs(ctx, time.Now().Add(time.Minute), time.Minute, 10, KindPublish)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("publish jobs: %+v %v; want one Follow", jobs, err)
	}
	var p Publish
	if err := json.Unmarshal(jobs[0].Payload, &p); err != nil || p.Activity != "Follow" || p.Actor != local || p.Target != remote || p.URI == "" {
		t.Errorf("the job: %+v %v", p, err)
	}
	if o, err := f.s.FollowRequest(ctx, local, remote); err != nil || o.URI != p.URI {
		t.Errorf("the request's uri %q (%v); want the Follow's %q", o.URI, err, p.URI)
	}
}
