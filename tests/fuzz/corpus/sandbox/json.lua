local t = json.decode('{"a": [1, 2, {"b": null}], "c": "\\u00e9"}')
return json.encode(t), t.a[3].b == json.null
