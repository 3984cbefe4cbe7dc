// Bench seller: answers every POST with a small fixed JSON document. Prints its port.
const reply = JSON.stringify({ ok: true, forecast: 'sunny', temperature_c: 21 });
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(req) {
    await req.arrayBuffer();
    return new Response(reply, { headers: { 'content-type': 'application/json' } });
  },
});
console.log(server.port);
