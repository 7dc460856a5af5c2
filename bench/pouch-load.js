#!/usr/bin/env node
// pouch-load.js: the peer's half of the server benchmark (issue 4).
//
// It does the work of bench/loadgen.c in CouchDB terms against a
// pouchdb-server on 127.0.0.1, with node's built-ins only (http with
// keep-alive agents, one socket per client):
//
//   rtt      one client: _bulk_docs of 1 doc, then _changes to the end
//   fanout   -k clients (50): _bulk_docs of 10 docs, then _changes since
//            the client's last seq, again and again for -t seconds or until
//            -n docs were pushed; round trips/s, p50/p99
//   ingest   _bulk_docs of -b (1,000) docs up to -n (1,000,000): docs/s
//            overall and per 100,000 (bodies made before each segment)
//   pull     _changes?include_docs=true in pages of 1,000 from the start
//
// The documents are gridkeep changes made by `loadgen sample` (one JSON
// object a line, -f FILE), cycled, each under a fresh time-ordered _id in
// place of its change id: the same size and shape as what loadgen pushes.
// RSS of the server (-P PID) from /proc. Lines "pouch MODE key=value ...".
//
// usage: node pouch-load.js MODE... -p PORT -f SAMPLE [-n N] [-b B] [-k K]
//        [-t SECONDS] [-c ROUNDS] [-P PID] [-T TIMEOUT]
'use strict';

const fs = require('fs');
const http = require('http');

function usage() {
	process.stderr.write(
	    'usage: pouch-load.js MODE... -p PORT -f SAMPLE [-n N] [-b B] ' +
	    '[-k K] [-t S] [-c ROUNDS] [-P PID] [-T TIMEOUT]\n' +
	    'modes: rtt fanout ingest pull rss\n');
	process.exit(2);
}

function parseArgs(argv) {
	const o = {modes: [], port: 0, file: null, n: 1000000, batch: 1000,
	           clients: 50, seconds: 30, count: 2000, pid: 0, timeout: 1800,
	           fanN: 100000, limit: 1000};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const num = (lo, hi) => {
			const v = Number(argv[++i]);
			if (!Number.isInteger(v) || v < lo || v > hi)
				usage();
			return v;
		};
		if (a === '-p') o.port = num(1, 65535);
		else if (a === '-f') o.file = argv[++i];
		else if (a === '-n') o.n = num(1, 10000000);
		else if (a === '-N') o.fanN = num(1, 10000000);
		else if (a === '-b') o.batch = num(1, 10000);
		else if (a === '-k') o.clients = num(1, 1000);
		else if (a === '-t') o.seconds = num(1, 3600);
		else if (a === '-c') o.count = num(1, 1000000);
		else if (a === '-P') o.pid = num(1, 1 << 30);
		else if (a === '-T') o.timeout = num(1, 7200);
		else if (/^[a-z]+$/.test(a)) o.modes.push(a);
		else usage();
	}
	if (!o.port || o.modes.length === 0)
		usage();
	if (!o.file && o.modes.some((m) => m !== 'rss' && m !== 'pull'))
		usage();
	return o;
}

const opts = parseArgs(process.argv.slice(2));

// The whole run is bounded.
setTimeout(() => {
	process.stderr.write(`pouch-load: deadline of ${opts.timeout} s\n`);
	process.exit(1);
}, opts.timeout * 1000).unref();

function nowUs() {
	return Number(process.hrtime.bigint() / 1000n);
}

function pct(v, p) {
	if (v.length === 0)
		return 0;
	v.sort((a, b) => a - b);
	let i = Math.ceil(v.length * p / 100) - 1;
	if (i < 0) i = 0;
	if (i >= v.length) i = v.length - 1;
	return v[i] / 1000;
}

function rss(label) {
	if (!opts.pid)
		return;
	const s = fs.readFileSync(`/proc/${opts.pid}/status`, 'utf8');
	const kib = (k) => {
		const m = s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm'));
		return m ? Number(m[1]) : -1;
	};
	console.log(`pouch rss when=${label} vmrss_kib=${kib('VmRSS')} ` +
	            `vmhwm_kib=${kib('VmHWM')}`);
}

// ---- documents ------------------------------------------------------------

let sample = [];
if (opts.file) {
	sample = fs.readFileSync(opts.file, 'utf8').split('\n')
	             .filter((l) => l.length > 0).map((l) => JSON.parse(l));
	if (sample.length === 0) {
		process.stderr.write('pouch-load: empty sample\n');
		process.exit(1);
	}
}
let nextDoc = 0, idSerial = 0;

// A time-ordered id of a UUID's length, as UUIDv7 change ids are.
function newId() {
	const t = Date.now().toString(16).padStart(12, '0');
	const r = (idSerial++).toString(16).padStart(20, '0');
	return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-` +
	       `8${r.slice(3, 6)}-${r.slice(8, 20)}`;
}

function makeDocs(n) {
	const docs = new Array(n);
	for (let i = 0; i < n; i++) {
		const c = sample[nextDoc++ % sample.length];
		const d = {_id: newId()};
		for (const k of Object.keys(c))
			if (k !== 'id')
				d[k] = c[k];
		docs[i] = d;
	}
	return JSON.stringify({docs});
}

// ---- HTTP -----------------------------------------------------------------

function client() {
	return new http.Agent({keepAlive: true, maxSockets: 1});
}

function request(agent, method, path, body) {
	return new Promise((resolve, reject) => {
		const headers = {'Accept': 'application/json'};
		if (body !== undefined) {
			headers['Content-Type'] = 'application/json';
			headers['Content-Length'] = Buffer.byteLength(body);
		}
		const req = http.request({host: '127.0.0.1', port: opts.port,
		                          method, path, agent, headers,
		                          noDelay: true}, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => {
				const text = Buffer.concat(chunks).toString('utf8');
				if (res.statusCode >= 300) {
					reject(new Error(`${method} ${path}: ` +
					    `${res.statusCode} ${text.slice(0, 300)}`));
					return;
				}
				resolve(JSON.parse(text));
			});
		});
		req.setTimeout(120000, () => req.destroy(new Error('timeout')));
		req.on('error', reject);
		if (body !== undefined)
			req.write(body);
		req.end();
	});
}

async function freshDb(agent, name) {
	try {
		await request(agent, 'DELETE', `/${name}`);
	} catch (e) {
		// absent: fine
	}
	await request(agent, 'PUT', `/${name}`);
}

async function push(agent, db, body, n) {
	const r = await request(agent, 'POST', `/${db}/_bulk_docs`, body);
	if (!Array.isArray(r) || r.length !== n || r.some((x) => !x.ok))
		throw new Error(`_bulk_docs: ${JSON.stringify(r).slice(0, 300)}`);
}

// Pull from since until a page is short; [docs, last seq].
async function pullAll(agent, db, since, limit) {
	let n = 0;
	for (;;) {
		const r = await request(agent, 'GET',
		    `/${db}/_changes?include_docs=true&limit=${limit}` +
		    `&since=${encodeURIComponent(since)}`);
		n += r.results.length;
		since = r.last_seq;
		if (r.results.length < limit)
			return [n, since];
	}
}

// ---- modes ----------------------------------------------------------------

async function rtt() {
	const a = client();
	await freshDb(a, 'rtt');
	let [, since] = await pullAll(a, 'rtt', 0, opts.limit);
	const lat = [];
	for (let i = 0; i < opts.count + 50; i++) {
		const body = makeDocs(1);
		const t0 = nowUs();
		await push(a, 'rtt', body, 1);
		[, since] = await pullAll(a, 'rtt', since, opts.limit);
		if (i >= 50)
			lat.push(nowUs() - t0);
	}
	console.log(`pouch rtt round_trips=${lat.length} ` +
	            `p50_ms=${pct(lat, 50).toFixed(3)} ` +
	            `p99_ms=${pct(lat, 99).toFixed(3)}`);
	a.destroy();
}

async function fanout() {
	const k = opts.clients, db = 'fanout';
	const admin = client();
	await freshDb(admin, db);
	admin.destroy();
	const lat = [];
	let pushed = 0, pulled = 0, rts = 0;
	const t0 = nowUs(), stopAt = t0 + opts.seconds * 1e6;
	async function one() {
		const a = client();
		let since = 'now';
		for (;;) {
			if (nowUs() >= stopAt || pushed >= opts.fanN)
				break;
			const body = makeDocs(10);
			pushed += 10;
			const s = nowUs();
			await push(a, db, body, 10);
			let n;
			[n, since] = await pullAll(a, db, since, opts.limit);
			pulled += n;
			lat.push(nowUs() - s);
			rts++;
		}
		a.destroy();
	}
	const cs = [];
	for (let i = 0; i < k; i++)
		cs.push(one());
	await Promise.all(cs);
	const t = (nowUs() - t0) / 1e6;
	console.log(`pouch fanout clients=${k} seconds=${t.toFixed(1)} ` +
	            `round_trips=${rts} ` +
	            `round_trips_per_s=${(rts / t).toFixed(1)} ` +
	            `p50_ms=${pct(lat, 50).toFixed(1)} ` +
	            `p99_ms=${pct(lat, 99).toFixed(1)} ` +
	            `changes_pushed=${pushed} changes_pulled=${pulled}`);
	rss('after-fanout');
}

async function ingest() {
	const a = client(), db = 'ingest';
	await freshDb(a, db);
	let done = 0, pushUs = 0, first = 0, last = 0;
	const lat = [];
	while (done < opts.n) {
		const seg = Math.min(100000, opts.n - done);
		const bodies = [];
		let bytes = 0;
		for (let left = seg; left > 0; left -= opts.batch) {
			const k = Math.min(left, opts.batch);
			const b = makeDocs(k);
			bytes += Buffer.byteLength(b);
			bodies.push([b, k]);
		}
		const t0 = nowUs();
		for (const [b, k] of bodies) {
			const s = nowUs();
			await push(a, db, b, k);
			lat.push(nowUs() - s);
		}
		const t = nowUs() - t0;
		pushUs += t;
		last = seg * 1e6 / t;
		if (done === 0)
			first = last;
		console.log(`pouch ingest from=${done} to=${done + seg} ` +
		            `changes_per_s=${last.toFixed(0)} ` +
		            `push_s=${(t / 1e6).toFixed(2)} ` +
		            `bytes_per_change=${(bytes / seg).toFixed(0)}`);
		done += seg;
	}
	console.log(`pouch ingest total changes=${done} batch=${opts.batch} ` +
	            `push_s=${(pushUs / 1e6).toFixed(2)} ` +
	            `changes_per_s=${(done * 1e6 / pushUs).toFixed(0)} ` +
	            `first_segment_per_s=${first.toFixed(0)} ` +
	            `last_segment_per_s=${last.toFixed(0)} ` +
	            `push_p50_ms=${pct(lat, 50).toFixed(1)} ` +
	            `push_p99_ms=${pct(lat, 99).toFixed(1)}`);
	rss('after-ingest');
	a.destroy();
}

async function pull() {
	const a = client(), db = 'ingest';
	const t0 = nowUs();
	let n = 0, pages = 0, since = 0;
	for (;;) {
		const r = await request(a, 'GET',
		    `/${db}/_changes?include_docs=true&limit=${opts.limit}` +
		    `&since=${encodeURIComponent(since)}`);
		n += r.results.length;
		pages++;
		since = r.last_seq;
		if (r.results.length < opts.limit || n >= opts.n)
			break;
	}
	const t = (nowUs() - t0) / 1e6;
	console.log(`pouch pull changes=${n} pages=${pages} ` +
	            `limit=${opts.limit} seconds=${t.toFixed(2)} ` +
	            `changes_per_s=${(n / t).toFixed(0)}`);
	rss('after-pull');
	a.destroy();
}

async function main() {
	const modes = {rtt, fanout, ingest, pull, rss: async () => rss('now')};
	for (const m of opts.modes) {
		if (!modes[m])
			usage();
		await modes[m]();
	}
}

main().catch((e) => {
	process.stderr.write(`pouch-load: ${e.stack || e}\n`);
	process.exit(1);
});
