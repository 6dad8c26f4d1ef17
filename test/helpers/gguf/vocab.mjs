// The tiny models' SentencePiece-style vocabulary: Gemma's special tokens, the 256 byte-fallback tokens,
// single characters and a few hundred common English words (each as one `▁word` piece). Typed text that is not
// a vocabulary word tokenizes to characters (and bytes for anything else), like SentencePiece does. Only whole
// words and punctuation are ever *generated* (see tiny-model.mjs), so random output reads as words.

/** llama.cpp `llama_token_type`. */
export const TokenType = Object.freeze({ NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, BYTE: 6 });

/** Gemma's special tokens, at fixed ids (the real models use other ids; nothing depends on them). */
export const SPECIAL_TOKENS = Object.freeze({
  pad: { id: 0, text: '<pad>' },
  eos: { id: 1, text: '<eos>' },
  bos: { id: 2, text: '<bos>' },
  unk: { id: 3, text: '<unk>' },
  startOfTurn: { id: 4, text: '<start_of_turn>' },
  endOfTurn: { id: 5, text: '<end_of_turn>' },
  // Gemma 4's turn markers.
  turnOpen: { id: 6, text: '<|turn>' },
  turnClose: { id: 7, text: '<turn|>' },
});

const SPACE = '\u2581';

const WORDS = `the of and to a in is it you that he was for on are with as his they be at one have this from
or had by hot word but what some we can out other were all there when up use your how said an each she which do
their time if will way about many then them write would like so these her long make thing see him two has look
more day could go come did number sound no most people my over know water than call first who may down side been
now find any new work part take get place made live where after back little only round man year came show every
good me give our under name very through just form sentence great think say help low line differ turn cause much
mean before move right boy old too same tell does set three want air well also play small end put home read hand
port large spell add even land here must big high such follow act why ask men change went light kind off need
house picture try us again animal point mother world near build self earth father head stand own page should
country found answer school grow study still learn plant cover food sun four between state keep eye never last let
thought city tree cross farm hard start might story saw far sea draw left late run while press close night real
life few north open seem together next white children begin got walk example ease paper group always music those
both mark often letter until mile river car feet care second book carry took science eat room friend began idea
fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual young ready
above ever red list though feel talk bird soon body dog family direct pose leave song measure door product black
short numeral class wind question happen complete ship area half rock order fire south problem piece told knew
pass since top whole king space heard best hour better true during hundred five remember step early hold west
ground interest reach fast verb sing listen six table travel less morning ten simple several vowel toward war lay
against pattern slow center love person money serve appear road map rain rule govern pull cold notice voice unit
power town fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest correct able
pound done beauty drive stood contain front teach week final gave green quick develop ocean warm free minute strong
special mind behind clear tail produce fact street inch multiply nothing course stay wheel full force blue object
decide surface deep moon island foot system busy test record boat common gold possible plane stead dry wonder laugh
thousand ago ran check game shape equate miss brought heat snow tire bring yes distant fill east paint language
among gemma model answer local quiet`;

/** Punctuation the model may generate (without the word-boundary marker). */
const PUNCTUATION = ['.', ',', '!', '?', ';', ':'];

/**
 * @param {{ wordCount?: number }} [options]
 * @returns {{ tokens: string[], types: number[], scores: number[], generatable: boolean[], byteCount: number }}
 */
export function buildVocab(options = {}) {
  const words = [...new Set(WORDS.split(/\s+/).filter(Boolean))].slice(0, options.wordCount ?? 300);
  const tokens = [];
  const types = [];
  const scores = [];
  const generatable = [];
  const seen = new Set();
  const add = (text, type, score, canGenerate) => {
    if (seen.has(text)) return;
    seen.add(text);
    tokens.push(text);
    types.push(type);
    scores.push(score);
    generatable.push(canGenerate);
  };

  const specials = Object.values(SPECIAL_TOKENS).sort((a, b) => a.id - b.id);
  for (const special of specials) {
    add(special.text, special.text === '<unk>' ? TokenType.UNKNOWN : TokenType.CONTROL, 0, false);
  }
  for (let byte = 0; byte < 256; byte++) {
    add(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`, TokenType.BYTE, 0, false);
  }
  // Single characters: the SPM tokenizer's starting symbols.
  const chars = new Set([SPACE, ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789']);
  for (const word of words) for (const ch of word) chars.add(ch);
  let rank = 0;
  for (const ch of chars) add(ch, TokenType.NORMAL, -1000 - rank++, false);
  for (const mark of PUNCTUATION) add(mark, TokenType.NORMAL, -900, true);
  words.forEach((word, index) => add(SPACE + word, TokenType.NORMAL, -index, true));
  const byteCount = 256;
  return { tokens, types, scores, generatable, byteCount };
}
