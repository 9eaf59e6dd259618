// An OTLP/HTTP trace receiver for tests: decodes each POST /v1/traces with the OpenTelemetry project's own
// protobuf definitions (the code @opentelemetry/otlp-transformer generates from opentelemetry-proto), checks
// that encoding the decoded message again gives back the very bytes received (so no field was misnumbered or
// mistyped, which a decoder would skip silently), and appends one JSON line per request to $OUT: its spans,
// flattened, with ids in hex and attributes as plain values. Prints "listening PORT" once it accepts.
// Usage: OUT=/path/spans.jsonl node receiver.mjs
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');
const { ExportTraceServiceRequest, ExportTraceServiceResponse } = root.opentelemetry.proto.collector.trace.v1;
const out = process.env.OUT;

const hex = (b64) => Buffer.from(b64 ?? '', 'base64').toString('hex');
function value(v) {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(value);
  return null;
}
const attributes = (list) => Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value ?? {})]));

function record(line) {
  fs.appendFileSync(out, JSON.stringify(line) + '\n');
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.method !== 'POST' || req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/x-protobuf') {
      record({ error: `unexpected ${req.method} ${req.url} (${req.headers['content-type']})` });
      res.writeHead(404).end();
      return;
    }
    let message;
    try {
      message = ExportTraceServiceRequest.decode(body);
    } catch (e) {
      record({ error: 'not an ExportTraceServiceRequest: ' + e.message });
      res.writeHead(400).end();
      return;
    }
    const roundTrip = Buffer.compare(Buffer.from(ExportTraceServiceRequest.encode(message).finish()), body) === 0;
    const obj = ExportTraceServiceRequest.toObject(message, { longs: String, enums: String, bytes: String });
    const spans = [];
    for (const rs of obj.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            resource: attributes(rs.resource?.attributes),
            scope: ss.scope?.name ?? '',
            traceId: hex(s.traceId),
            spanId: hex(s.spanId),
            parentSpanId: hex(s.parentSpanId),
            name: s.name,
            kind: s.kind,
            start: s.startTimeUnixNano,
            end: s.endTimeUnixNano,
            attributes: attributes(s.attributes),
            status: { code: s.status?.code ?? 'STATUS_CODE_UNSET', message: s.status?.message ?? '' },
          });
        }
      }
    }
    record({ bytes: body.length, roundTrip, spans });
    res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
    res.end(Buffer.from(ExportTraceServiceResponse.encode({}).finish()));
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
