"""Python's http.client against the server: a client that writes its whole body before it reads a byte of the reply,
as many do. Sends each request given, on one kept-alive connection, and prints one JSON line per request with the
status, the headers that matter here and the body (decompressed when the reply is).

usage: http_client.py HOST PORT REQUESTS_JSON
  REQUESTS_JSON: a file holding [{"method", "path", "headers", "body_file" or "body_size"}...]; body_size sends that
  many bytes of '{' (an oversized body that is not even JSON).
"""
import gzip
import http.client
import json
import sys
import zlib

host, port, spec = sys.argv[1], int(sys.argv[2]), json.load(open(sys.argv[3]))
connection = http.client.HTTPConnection(host, port, timeout=30)
for request in spec:
    if 'body_file' in request:
        body = open(request['body_file'], 'rb').read()
    else:
        body = b'{' * request.get('body_size', 0)
    result = {}
    try:
        connection.request(request['method'], request['path'], body=body, headers=request.get('headers', {}))
        response = connection.getresponse()
        raw = response.read()
        encoding = response.getheader('Content-Encoding')
        if encoding == 'gzip':
            raw = gzip.decompress(raw)
        elif encoding == 'deflate':
            raw = zlib.decompress(raw)
        result = {'status': response.status, 'encoding': encoding, 'connection': response.getheader('Connection'),
                  'body': raw.decode('utf-8', 'replace')}
    except Exception as error:  # the point of the test: a broken pipe or a reset instead of the reply
        result = {'error': type(error).__name__ + ': ' + str(error)}
        connection.close()
        connection = http.client.HTTPConnection(host, port, timeout=30)
    print(json.dumps(result), flush=True)
