# Writes the corpus file IN as a C++ byte array into OUT (agentrt::engine::tokenizer_corpus()).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "// Generated from engine/assets/tokenizer_corpus.txt by engine/embed_corpus.cmake.\n"
  "#include <string_view>\nnamespace agentrt::engine {\nnamespace {\nconst unsigned char kCorpus[] = {\n${bytes}0};\n}\n"
  "std::string_view tokenizer_corpus() { return {reinterpret_cast<const char*>(kCorpus), ${size}}; }\n}\n")
