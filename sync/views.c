/*
 * views.c: the figures derived from the ledgers, never stored.
 *
 * Stock on hand is the sum of a depot's moves of an item; a lot is the
 * moves sharing (depot, item, lot), and its expiry the latest one its moves
 * name. Expired stock is the positive balance of lots past their expiry,
 * counted apart so shortfall = standard minimum - usable stock. A transfer
 * out whose transfer id has no transfer in yet is in transit (counted on the
 * sending depot). Point balances are sums of entries; minutes served come
 * from earn and revoke entries only, so redeeming never lowers hours.
 * Nothing is clamped: negative stock or points are discrepancies to show.
 *
 * These scan the ledgers with the indexes of schema/records; a street-wide
 * report over years of moves is a few hundred thousand rows, which SQLite
 * sums in well under a second.
 */
#include <stdio.h>
#include <string.h>

#include "sync.h"

static const char stock_sql[] =
    "WITH lots AS ("
    "  SELECT depot, item, max(expiry) AS expiry, sum(quantity) AS qty"
    "  FROM stock_moves GROUP BY depot, item, coalesce(lot, '')),"
    " agg AS ("
    "  SELECT depot, item, sum(qty) AS on_hand,"
    "   sum(CASE WHEN expiry IS NOT NULL AND expiry < ?1 AND qty > 0"
    "       THEN qty ELSE 0 END) AS expired"
    "  FROM lots GROUP BY depot, item),"
    " transit AS ("
    "  SELECT o.depot, o.item, -sum(o.quantity) AS qty FROM stock_moves o"
    "  WHERE o.kind = 'transfer_out' AND NOT EXISTS ("
    "   SELECT 1 FROM stock_moves i WHERE i.transfer_id = o.transfer_id"
    "   AND i.kind = 'transfer_in')"
    "  GROUP BY o.depot, o.item),"
    " std AS ("
    "  SELECT depot, item, max(min_qty) AS min_qty FROM standards"
    "  WHERE deleted IS NOT 1 AND depot IS NOT NULL AND item IS NOT NULL"
    "  GROUP BY depot, item),"
    " keys AS (SELECT depot, item FROM agg UNION SELECT depot, item FROM std)"
    " SELECT k.depot, k.item, coalesce(a.on_hand, 0), coalesce(a.expired, 0),"
    "  coalesce(t.qty, 0), coalesce(s.min_qty, -1)"
    " FROM keys k"
    " LEFT JOIN agg a ON a.depot = k.depot AND a.item = k.item"
    " LEFT JOIN transit t ON t.depot = k.depot AND t.item = k.item"
    " LEFT JOIN std s ON s.depot = k.depot AND s.item = k.item"
    " WHERE k.depot IS NOT NULL AND k.item IS NOT NULL"
    " ORDER BY k.depot, k.item";

static void
copy_id(char dst[GK_ID_LEN + 1], sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, GK_ID_LEN + 1, "%s", s ? (const char *)s : "");
}

int
views_stock(sqlite3 *db, int64_t today_days, views_stock_cb cb, void *arg)
{
	char today[32];
	sqlite3_stmt *st;
	int rc;

	text_time_format(today_days * 86400000, today);
	today[10] = '\0'; /* YYYY-MM-DD sorts like the date */
	if (sqlite3_prepare_v2(db, stock_sql, -1, &st, NULL) != SQLITE_OK)
		return GK_E_DB;
	sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct gk_stock_row r;
		copy_id(r.depot, st, 0);
		copy_id(r.item, st, 1);
		r.on_hand = sqlite3_column_int64(st, 2);
		r.expired = sqlite3_column_int64(st, 3);
		r.in_transit = sqlite3_column_int64(st, 4);
		r.minimum = sqlite3_column_int64(st, 5);
		r.shortfall = 0;
		if (r.minimum >= 0 && r.minimum > r.on_hand - r.expired)
			r.shortfall = r.minimum - (r.on_hand - r.expired);
		if ((rc = cb(arg, &r)) != 0) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? GK_OK : GK_E_DB;
}

int
views_points(sqlite3 *db, views_points_cb cb, void *arg)
{
	static const char sql[] =
	    "SELECT v.id, coalesce(sum(p.points), 0),"
	    " coalesce(sum(CASE WHEN p.kind IN ('earn', 'revoke')"
	    "  THEN p.minutes ELSE 0 END), 0)"
	    " FROM (SELECT id FROM volunteers UNION"
	    "  SELECT volunteer FROM point_entries WHERE volunteer IS NOT "
	    "NULL) v"
	    " LEFT JOIN point_entries p ON p.volunteer = v.id"
	    " GROUP BY v.id ORDER BY v.id";
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return GK_E_DB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct gk_points_row r;
		copy_id(r.volunteer, st, 0);
		r.points = sqlite3_column_int64(st, 1);
		r.minutes = sqlite3_column_int64(st, 2);
		if ((rc = cb(arg, &r)) != 0) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? GK_OK : GK_E_DB;
}

static int
time_before(const unsigned char *t, int64_t now_ms, int64_t plus_ms)
{
	int64_t ms;

	if (t == NULL || text_time_parse((const char *)t,
	                                 strlen((const char *)t), &ms) != GK_OK)
		return 0;
	return ms + plus_ms < now_ms;
}

int
views_overdue(sqlite3 *db, int64_t now_ms, const struct gk_policy *pol,
              views_overdue_cb cb, void *arg)
{
	static const char sql[] =
	    "SELECT id, status, risk_level, occurred_at, plan_deadline"
	    " FROM hazards WHERE deleted IS NOT 1"
	    " AND status IN ('reported', 'verified', 'rectifying')"
	    " ORDER BY id";
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return GK_E_DB;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct gk_overdue_row r;
		const char *status = (const char *)sqlite3_column_text(st, 1);
		int risk = sqlite3_column_int(st, 2);
		int64_t target_ms = 0;

		if (risk >= 1 && risk <= 4)
			target_ms =
			    (int64_t)pol->response_hours[risk] * 3600000;
		copy_id(r.hazard, st, 0);
		r.past_deadline =
		    time_before(sqlite3_column_text(st, 4), now_ms, 0);
		r.response_late =
		    strcmp(status, "reported") == 0 && target_ms > 0 &&
		    time_before(sqlite3_column_text(st, 3), now_ms, target_ms);
		if (!r.past_deadline && !r.response_late)
			continue;
		if ((rc = cb(arg, &r)) != 0) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? GK_OK : GK_E_DB;
}
