"""serve_peer.py — the Python peer of serve_bench.sh: torchvision's ResNet behind Python's
ThreadingHTTPServer, answering POST /predictions/model (an image body) the way roost serve
does: PIL decode, Resize + CenterCrop + normalize, one forward pass, {label, probability}.

  serve_peer.py WEIGHTS.pth ARCH CLASSES(comma) IMAGE_SIZE RESIZE PORT
"""
import io
import json
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
import torchvision
import torchvision.transforms as T
from PIL import Image

weights, arch, classes, size, resize, port = sys.argv[1:7]
classes = classes.split(",")
net = getattr(torchvision.models, arch)(num_classes=len(classes))
net.load_state_dict(torch.load(weights), strict=True)
net.eval()
transform = T.Compose([T.Resize(int(resize)), T.CenterCrop(int(size)), T.ToTensor(),
                       T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        x = transform(Image.open(io.BytesIO(body)).convert("RGB")).unsqueeze(0)
        with torch.no_grad():
            p = torch.softmax(net(x), 1)[0]
        i = int(p.argmax())
        out = json.dumps({"label": classes[i], "probability": float(p[i])}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    # The system's listen backlog, as roost serve's, rather than socketserver's 5: otherwise a
    # burst of 64 connects meets resets here and not there.
    request_queue_size = socket.SOMAXCONN


print(f"listening on {port}", flush=True)
Server(("127.0.0.1", int(port)), Handler).serve_forever()
