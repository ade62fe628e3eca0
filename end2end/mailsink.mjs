// A local SMTP sink for the browser tests: Gatehouse delivers to it over real SMTP, and the
// tests read what arrived over HTTP (GET /messages?to=ADDRESS gives JSON).
import net from "node:net";
import http from "node:http";

export async function startMailSink() {
  const inbox = [];
  const smtp = net.createServer((socket) => {
    socket.setEncoding("utf8");
    let buffer = "";
    let inData = false;
    let to = [];
    let data = [];
    socket.write("220 sink.test ESMTP ready\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            inbox.push(parse(to, data.join("\r\n")));
            socket.write("250 OK queued\r\n");
          } else {
            data.push(line.startsWith(".") ? line.slice(1) : line);
          }
          continue;
        }
        const command = line.toUpperCase();
        if (command.startsWith("EHLO") || command.startsWith("HELO")) socket.write("250-sink.test\r\n250 8BITMIME\r\n");
        else if (command.startsWith("MAIL FROM")) { to = []; socket.write("250 OK\r\n"); }
        else if (command.startsWith("RCPT TO")) { to.push(line.slice(8).trim().replace(/^<|>$/g, "")); socket.write("250 OK\r\n"); }
        else if (command === "DATA") { inData = true; data = []; socket.write("354 go ahead\r\n"); }
        else if (command === "QUIT") { socket.end("221 bye\r\n"); }
        else socket.write("250 OK\r\n");
      }
    });
  });
  const web = http.createServer((req, res) => {
    const url = new URL(req.url, "http://sink");
    const to = url.searchParams.get("to");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(inbox.filter((m) => !to || m.to.includes(to))));
  });
  await new Promise((ok) => smtp.listen(0, "127.0.0.1", ok));
  await new Promise((ok) => web.listen(0, "127.0.0.1", ok));
  return {
    smtpUrl: `smtp://127.0.0.1:${smtp.address().port}`,
    httpUrl: `http://127.0.0.1:${web.address().port}`,
    close: () => { smtp.close(); web.close(); },
  };
}

function parse(to, message) {
  const split = message.indexOf("\r\n\r\n");
  const headers = message.slice(0, split);
  let body = message.slice(split + 4);
  const header = (name) => (headers.split("\r\n").find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ":")) || "").slice(name.length + 1).trim();
  const encoding = header("Content-Transfer-Encoding").toLowerCase();
  if (encoding === "base64") body = Buffer.from(body.replace(/\s/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") body = body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
  return { to, subject: header("Subject"), body };
}
