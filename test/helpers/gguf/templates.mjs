// Chat templates the tiny models carry in `tokenizer.chat_template`, in the shape of Google's own templates
// (Gemma 3: system text folded into the first user turn; Gemma 4: a real system turn and `<|turn>` markers).

export const GEMMA3_CHAT_TEMPLATE =
  "{{ bos_token }}{%- if messages[0]['role'] == 'system' -%}{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}" +
  "{%- set loop_messages = messages[1:] -%}{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}" +
  "{%- endif -%}{%- for message in loop_messages -%}{%- if message['role'] == 'assistant' -%}{%- set role = 'model' -%}" +
  "{%- else -%}{%- set role = message['role'] -%}{%- endif -%}" +
  "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}{{ message['content'] | trim }}" +
  "{{ '<end_of_turn>\n' }}{%- endfor -%}{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}";

export const GEMMA4_CHAT_TEMPLATE =
  "{{ bos_token }}{%- for message in messages -%}{%- if message['role'] == 'assistant' -%}{%- set role = 'model' -%}" +
  "{%- else -%}{%- set role = message['role'] -%}{%- endif -%}" +
  "{{ '<|turn>' + role + '\n' }}{{ message['content'] | trim }}{{ '<turn|>\n' }}{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{ '<|turn>model\n' }}{%- endif -%}";
