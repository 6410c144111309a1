"""What the room says to people, in Kazakh, Russian and English: one catalogue of sentences.

Everything a person reads about a device or a fault (the panel, the act on the absence of
technical possibility, a record, the ``reason`` of an MQTT payload) is made here from a
*code* and *parameters*, never from an exception's text, a path, a URL or an internal key:
those go to the log and to a check's ``detail``, which the technician can open.

    say("device.unreachable", {"device": {"kk": "Судья камерасы", "ru": "Камера судьи"}}, "ru")
    -> "Камера судьи не отвечает"
    texts("device.check_timeout", {"device": "Кодек", "seconds": 1.5})
    -> {"kk": "Кодек: тексеру 1,5 с ішінде аяқталмады", "ru": "...", "en": "Codec: ... 1.5 s"}

Parameters: a label (``device``, ``channel``, ``far_side``, ``role``, ``mark``...) is a string
or a ``{"kk", "ru", "en"}`` table, and the sentence takes its own language from it; numbers
are written for people (``1,5`` in kk and ru, ``1.5`` in en; whole numbers without a
fraction). An unknown code, or a sentence missing one of its parameters, says a generic
sentence in that language (logged once), never the key.

The language of the room (what ``reason`` fields carry) is :data:`DEFAULT_LANG`, set once at
start from the config with :func:`set_default_language`. This module imports nothing from
``web/`` or ``mqtt/``: the controller, the panel and the MQTT link all read this one table.
"""
from __future__ import annotations

import logging
import string
import threading

log = logging.getLogger(__name__)

LANGS = ("kk", "ru", "en")
DEFAULT_LANG = "ru"

# The catalogue: code -> {"kk", "ru", "en"}. Plain words; {param} placeholders.
CATALOGUE: dict[str, dict[str, str]] = {
    # -- generic (an unknown code, a sentence missing a parameter) -----------------------------
    "generic.fault": {"kk": "{device}: ақаулық", "ru": "{device}: неисправность", "en": "{device}: fault"},
    "generic.fault.plain": {"kk": "Құрылғы ақаулы", "ru": "Устройство неисправно", "en": "A device is at fault"},
    "generic.ok": {"kk": "{device}: тексеруден өтті", "ru": "{device}: проверка пройдена",
                   "en": "{device}: check passed"},
    "generic.ok.plain": {"kk": "Тексеруден өтті", "ru": "Проверка пройдена", "en": "Check passed"},
    "generic.device": {"kk": "Құрылғы", "ru": "Устройство", "en": "Device"},

    # -- default labels (a device or a microphone the config names no label for) ---------------
    "label.camera": {"kk": "Камера", "ru": "Камера", "en": "Camera"},
    "label.camera.n": {"kk": "{n}-камера", "ru": "Камера {n}", "en": "Camera {n}"},
    "label.codec": {"kk": "Кодек", "ru": "Кодек", "en": "Codec"},
    "label.codec.n": {"kk": "{n}-кодек", "ru": "Кодек {n}", "en": "Codec {n}"},
    "label.dsp": {"kk": "Дыбыс процессоры", "ru": "Аудиопроцессор", "en": "Audio processor"},
    "label.dsp.n": {"kk": "{n}-дыбыс процессоры", "ru": "Аудиопроцессор {n}", "en": "Audio processor {n}"},
    "label.device": {"kk": "Құрылғы", "ru": "Устройство", "en": "Device"},
    "label.device.n": {"kk": "{n}-құрылғы", "ru": "Устройство {n}", "en": "Device {n}"},
    "label.channel.n": {"kk": "{n}-микрофон", "ru": "Микрофон {n}", "en": "Microphone {n}"},
    "label.system": {"kk": "Зал контроллері", "ru": "Контроллер зала", "en": "Room controller"},

    # -- the room controller itself (its clock, its GPIO) ----------------------------------------
    "system.clock_unsynced": {"kk": "Сағат синхрондалмаған: отырыс уақытына байланысты әрекеттер кейінге "
                                    "қалдырылды, жазбалар белгіленеді",
                              "ru": "Часы не синхронизированы: действия по времени заседаний отложены, "
                                    "записи помечаются",
                              "en": "The clock is not synchronised: actions timed by the hearings are held, "
                                    "records are marked"},
    "system.clock_synced": {"kk": "Сағат синхрондалған", "ru": "Часы синхронизированы",
                            "en": "The clock is synchronised"},
    "system.gpio_unavailable": {"kk": "Басқару шығыстары қолжетімсіз: статус шамы, дыбыс белгісі, түйме және "
                                      "реле жұмыс істемейді",
                                "ru": "Выводы управления недоступны: индикатор, зуммер, кнопка и реле не работают",
                                "en": "The control pins are unavailable: the status light, buzzer, button and "
                                      "relays do not work"},
    "system.storage_volatile": {"kk": "Зал деректері жедел жадта сақталады: қуат өшірілгенде жоғалады",
                                "ru": "Данные зала хранятся в оперативной памяти: при отключении питания они "
                                      "будут потеряны",
                                "en": "The room's data is kept in memory: a power cut would lose it"},
    "system.storage_ok": {"kk": "Зал деректері дискіде сақталады", "ru": "Данные зала хранятся на диске",
                          "en": "The room's data is kept on disk"},
    "system.gpio_ok": {"kk": "Статус шамы, дыбыс белгісі, түйме және реле жұмыс істейді",
                       "ru": "Индикатор, зуммер, кнопка и реле работают",
                       "en": "The status light, buzzer, button and relays work"},

    # -- participants (camera presets by role) ----------------------------------------------------
    "role.judge": {"kk": "Судья", "ru": "Судья", "en": "Judge"},
    "role.prosecutor": {"kk": "Прокурор", "ru": "Прокурор", "en": "Prosecutor"},
    "role.defence": {"kk": "Қорғаушы", "ru": "Защитник", "en": "Defence"},
    "role.defendant": {"kk": "Сотталушы", "ru": "Подсудимый", "en": "Defendant"},
    "role.witness": {"kk": "Куә", "ru": "Свидетель", "en": "Witness"},
    "role.wide": {"kk": "Жалпы көрініс", "ru": "Общий план", "en": "Wide shot"},

    # -- any device -------------------------------------------------------------------------------
    "device.link": {"kk": "{device} байланыста", "ru": "{device} на связи", "en": "{device} is online"},
    "device.answers": {"kk": "{device} жауап береді", "ru": "{device} отвечает", "en": "{device} answers"},
    "device.unreachable": {"kk": "{device} жауап бермейді", "ru": "{device} не отвечает",
                           "en": "{device} does not answer"},
    "device.check_timeout": {"kk": "{device}: тексеру {seconds} с ішінде аяқталмады",
                             "ru": "{device}: проверка не завершилась за {seconds} с",
                             "en": "{device}: the check did not finish within {seconds} s"},
    "device.check_error": {"kk": "{device}: тексеруді орындау мүмкін болмады",
                           "ru": "{device}: проверку не удалось выполнить",
                           "en": "{device}: the check could not be run"},
    "device.line_clean": {"kk": "{device}: байланыс желісі таза", "ru": "{device}: линия связи без помех",
                          "en": "{device}: the serial line is clean"},
    "device.line_noise": {"kk": "{device}: байланыс желісінде кедергі бар", "ru": "{device}: помехи на линии связи",
                          "en": "{device}: noise on the serial line"},
    "check.failing": {"kk": "{device}: ақаулық жалғасуда", "ru": "{device}: неисправность не проходит",
                      "en": "{device}: the fault persists"},

    # -- commands from the panel ------------------------------------------------------------------
    "command.failed": {"kk": "{device}: команда орындалмады", "ru": "{device}: команда не выполнена",
                       "en": "{device}: the command was not carried out"},
    "command.timeout": {"kk": "{device}: командаға {seconds} с ішінде жауап болмады",
                        "ru": "{device}: нет ответа на команду за {seconds} с",
                        "en": "{device}: no answer to the command within {seconds} s"},
    "command.bad_value": {"kk": "{device}: команданың мәні қате", "ru": "{device}: неверное значение команды",
                          "en": "{device}: wrong value for the command"},

    # -- cameras ----------------------------------------------------------------------------------
    "camera.standby": {"kk": "{device} күту режимінде", "ru": "{device} в дежурном режиме",
                       "en": "{device} is in standby"},
    "camera.booting": {"kk": "{device} қосылып жатыр, әлі дайын емес", "ru": "{device} включается и ещё не готова",
                       "en": "{device} is starting up and not ready yet"},
    "camera.power": {"kk": "{device}: қуаты қосулы", "ru": "{device}: питание включено", "en": "{device} is on"},
    "camera.version": {"kk": "{device}: үлгісі мен нұсқасы оқылмады",
                       "ru": "{device}: не удалось прочитать модель и версию",
                       "en": "{device}: its model and version could not be read"},
    "camera.version.ok": {"kk": "{device}: үлгісі мен нұсқасы оқылды", "ru": "{device}: модель и версия прочитаны",
                          "en": "{device}: model and version read"},
    "camera.preset": {"kk": "{device}: «{role}» позициясы (№ {preset}) шақырылды",
                      "ru": "{device}: позиция «{role}» (№ {preset}) вызвана",
                      "en": "{device}: preset “{role}” (no. {preset}) recalled"},
    "camera.preset_failed": {"kk": "{device}: «{role}» позициясы (№ {preset}) шақырылмады",
                             "ru": "{device}: позиция «{role}» (№ {preset}) не вызвана",
                             "en": "{device}: preset “{role}” (no. {preset}) did not recall"},
    "camera.preset_moving": {"kk": "{device}: «{role}» позициясы (№ {preset}) шақырылғаннан кейін камера тоқтамады",
                             "ru": "{device}: после вызова позиции «{role}» (№ {preset}) камера не остановилась",
                             "en": "{device}: the camera kept moving after preset “{role}” (no. {preset})"},
    "camera.preset_off": {"kk": "{device}: «{role}» позициясы (№ {preset}) сақталған орнына келмеді",
                          "ru": "{device}: позиция «{role}» (№ {preset}) не совпадает с сохранённой",
                          "en": "{device}: preset “{role}” (no. {preset}) is not where it was stored"},
    "camera.preset_skipped": {"kk": "{device}: «{role}» позициясы (№ {preset}) тексерілмеді: тексеру уақыты бітті",
                              "ru": "{device}: позиция «{role}» (№ {preset}) не проверена: время проверки вышло",
                              "en": "{device}: preset “{role}” (no. {preset}) not tried: the check ran out of time"},
    "camera.video.signal": {"kk": "{device}: сурет бар", "ru": "{device}: изображение есть",
                            "en": "{device}: the picture comes"},
    "camera.video.no_signal": {"kk": "{device}: сурет жоқ", "ru": "{device}: нет изображения",
                               "en": "{device}: no picture"},
    "camera.video.bad_frame": {"kk": "{device}: суретті оқу мүмкін емес", "ru": "{device}: изображение не читается",
                               "en": "{device}: the picture cannot be read"},
    "camera.video.blur": {"kk": "{device}: сурет анық емес (фокус жоқ)", "ru": "{device}: изображение не в фокусе",
                          "en": "{device}: the picture is out of focus"},
    "camera.video.dark": {"kk": "{device}: сурет тым қараңғы", "ru": "{device}: изображение слишком тёмное",
                          "en": "{device}: the picture is too dark"},
    "camera.video.bright": {"kk": "{device}: сурет тым жарық", "ru": "{device}: изображение пересвечено",
                            "en": "{device}: the picture is overexposed"},
    "camera.video.black": {"kk": "{device}: қара экран немесе сигнал жоқ", "ru": "{device}: чёрный экран или нет сигнала",
                           "en": "{device}: black screen or no signal"},
    "camera.video.frozen": {"kk": "{device}: сурет қатып қалды", "ru": "{device}: изображение застыло",
                            "en": "{device}: the picture is frozen"},
    "camera.video.noise": {"kk": "{device}: суретте кедергі көп", "ru": "{device}: сильные помехи на изображении",
                           "en": "{device}: the picture is noisy"},
    "camera.video.cast": {"kk": "{device}: сурет түсі бұрмаланған", "ru": "{device}: цвета изображения искажены",
                          "en": "{device}: the picture's colours are off"},
    "camera.video.obstruction": {"kk": "{device}: объектив жабылған", "ru": "{device}: объектив закрыт",
                                 "en": "{device}: the lens is covered"},
    "camera.video.reference": {"kk": "{device}: «{role}» позициясы (№ {preset}) сақталған эталондармен салыстырылды: {references}",
                               "ru": "{device}: позиция «{role}» (№ {preset}) оценена по сохранённым эталонам: {references}",
                               "en": "{device}: preset “{role}” (no. {preset}) judged against its stored references: {references}"},
    "camera.video.no_reference": {"kk": "{device}: «{role}» позициясының (№ {preset}) эталон кадры жоқ, сурет эталонсыз "
                                        "бағаланды. Эталонды «Камера суреттері» бетінде сақтаңыз",
                                  "ru": "{device}: у позиции «{role}» (№ {preset}) нет эталонного кадра, изображение оценено "
                                        "без эталона. Сохраните эталон на странице «Изображение камер»",
                                  "en": "{device}: preset “{role}” (no. {preset}) has no reference picture, so the picture "
                                        "was judged without one. Store a reference on the Camera pictures page"},
    "camera.video.judged_without_reference": {"kk": "Эталонсыз бағаланды: бұл позиция үшін эталон сақтаңыз",
                                              "ru": "Оценено без эталона: сохраните эталон для этой позиции",
                                              "en": "Judged without a reference: store one for this preset"},
    "camera.video.at_preset": {"kk": "{sentence} («{role}» позициясы)", "ru": "{sentence} (позиция «{role}»)",
                               "en": "{sentence} (preset “{role}”)"},
    # what a picture judged during a hearing was compared with (say_where adds it)
    "camera.video.by_stored": {"kk": "{sentence}; сақталған эталонмен салыстырылды",
                               "ru": "{sentence}; сравнено с сохранённым эталоном",
                               "en": "{sentence}; compared with the stored reference"},
    "camera.video.by_learned": {"kk": "{sentence}; отырыс барысында {time} кезінде түсірілген суретпен салыстырылды",
                                "ru": "{sentence}; сравнено с изображением, снятым во время заседания в {time}",
                                "en": "{sentence}; compared with the picture taken during the hearing at {time}"},
    "camera.video.by_none": {"kk": "{sentence}; эталон суреті жоқ: осы позиция үшін эталон сақтаңыз",
                             "ru": "{sentence}; без эталонного снимка: сохраните эталон для этой позиции",
                             "en": "{sentence}; no reference picture: store one for this preset"},
    "camera.video.off_preset": {"kk": "{sentence}; камера позициядан ығыстырылған, эталонсыз бағаланды",
                                "ru": "{sentence}; камера сдвинута с позиции, оценено без эталона",
                                "en": "{sentence}; the camera was moved off its presets, judged without a reference"},
    "camera.video.drift": {"kk": "{device}: камера позицияда бапталған жаққа қарамайды",
                           "ru": "{device}: камера смотрит не туда, куда настроена позиция",
                           "en": "{device}: the camera is not on the preset's view"},
    "camera.video.follows": {"kk": "{device}: сурет камераның бұрылысына ілеседі",
                             "ru": "{device}: изображение меняется вслед за камерой",
                             "en": "{device}: the picture follows the camera"},
    "camera.freeze_off": {"kk": "{device}: стоп-кадр өшірулі", "ru": "{device}: стоп-кадр выключен",
                          "en": "{device}: picture freeze is off"},
    "camera.freeze_on": {"kk": "{device}: сурет тоқтатылған (стоп-кадр қосулы); қайта қосып жатырмын",
                         "ru": "{device}: изображение остановлено (включён стоп-кадр); включаю обратно",
                         "en": "{device}: the camera's picture is frozen (picture freeze is switched on); "
                               "switching it back to live"},

    # -- codecs -----------------------------------------------------------------------------------
    "codec.logged_in": {"kk": "{device}: жүйеге кірді", "ru": "{device}: вход выполнен", "en": "{device}: logged in"},
    "codec.login_failed": {"kk": "{device}: жүйеге кіру мүмкін болмады (пайдаланушы аты мен құпиясөзді тексеріңіз)",
                           "ru": "{device}: не удалось войти (проверьте имя пользователя и пароль)",
                           "en": "{device}: could not log in (check the user name and password)"},
    "codec.diagnostics": {"kk": "{device}: диагностикада қате жоқ", "ru": "{device}: диагностика без ошибок",
                          "en": "{device}: diagnostics show no errors"},
    "codec.diagnostics_unsupported": {"kk": "{device}: бұл үлгі диагностика бермейді",
                                      "ru": "{device}: эта модель не сообщает диагностику",
                                      "en": "{device}: this model reports no diagnostics"},
    "codec.diagnostics_unread": {"kk": "{device}: диагностика оқылмады",
                                 "ru": "{device}: не удалось прочитать диагностику",
                                 "en": "{device}: diagnostics could not be read"},
    "codec.diagnostics_error": {"kk": "{device}: диагностика қателер туралы хабарлайды ({count})",
                                "ru": "{device}: диагностика сообщает об ошибках ({count})",
                                "en": "{device}: diagnostics report errors ({count})"},
    "codec.test_call.connected": {"kk": "{device}: {far_end} нөміріне сынақ қоңырауы {seconds} с ішінде қосылды",
                                  "ru": "{device}: тестовый вызов {far_end} соединён за {seconds} с",
                                  "en": "{device}: the test call to {far_end} connected in {seconds} s"},
    "codec.test_call.busy": {"kk": "{device}: {far_end} нөмірі бос емес", "ru": "{device}: номер {far_end} занят",
                             "en": "{device}: {far_end} is busy"},
    "codec.test_call.no_answer": {"kk": "{device}: {far_end} нөмірі жауап бермейді",
                                  "ru": "{device}: номер {far_end} не отвечает",
                                  "en": "{device}: no answer from {far_end}"},
    "codec.test_call.dropped": {"kk": "{device}: {far_end} нөмірімен байланыс үзілді",
                                "ru": "{device}: вызов {far_end} оборвался",
                                "en": "{device}: the call to {far_end} dropped"},
    "codec.test_call.rejected": {"kk": "{device}: {far_end} нөміріне қоңырау қабылданбады",
                                 "ru": "{device}: вызов {far_end} отклонён",
                                 "en": "{device}: the call to {far_end} was rejected"},
    "codec.test_call.unreachable": {"kk": "{device}: {far_end} нөмірі қолжетімсіз",
                                    "ru": "{device}: номер {far_end} недоступен",
                                    "en": "{device}: {far_end} cannot be reached"},
    "codec.test_call.ended": {"kk": "{device}: {far_end} нөміріне қоңырау қосылмай тұрып аяқталды",
                              "ru": "{device}: вызов {far_end} завершился до соединения",
                              "en": "{device}: the call to {far_end} ended before connecting"},
    "codec.test_call.cancelled": {"kk": "{device}: {far_end} нөміріне сынақ қоңырауы тоқтатылды",
                                  "ru": "{device}: тестовый вызов {far_end} остановлен",
                                  "en": "{device}: the test call to {far_end} was stopped"},
    "codec.test_call.hangup_failed": {"kk": "{device}: {far_end} нөміріне қоңырау аяқталмайды",
                                      "ru": "{device}: вызов {far_end} не завершается",
                                      "en": "{device}: the call to {far_end} would not hang up"},
    "codec.test_call.failed": {"kk": "{device}: {far_end} нөміріне сынақ қоңырауы сәтсіз болды",
                               "ru": "{device}: тестовый вызов {far_end} не удался",
                               "en": "{device}: the test call to {far_end} failed"},
    "codec.test_call.no_time": {"kk": "{device}: {far_end} нөміріне сынақ қоңырауына уақыт қалмады",
                                "ru": "{device}: не осталось времени на тестовый вызов {far_end}",
                                "en": "{device}: no time left for a test call to {far_end}"},
    "codec.test_call.no_number": {"kk": "{device}: сынақ қоңырауы үшін қарсы тарап нөмірі берілмеген",
                                  "ru": "{device}: не задан номер дальней стороны для тестового вызова",
                                  "en": "{device}: no far-end number for the test call"},
    "codec.test_call.running": {"kk": "{device}: сынақ қоңырауы жүріп жатыр", "ru": "{device}: тестовый вызов уже идёт",
                                "en": "{device}: a test call is already running"},

    # -- DSP and microphones ----------------------------------------------------------------------
    "dsp.meters": {"kk": "{device}: микрофон деңгейлері оқылмады",
                   "ru": "{device}: не удалось прочитать уровни микрофонов",
                   "en": "{device}: the microphone levels could not be read"},
    "dsp.channel.ok": {"kk": "{device}: «{channel}» микрофоны жарамды", "ru": "{device}: микрофон «{channel}» исправен",
                       "en": "{device}: microphone “{channel}” is fine"},
    "dsp.channel.spare_muted": {"kk": "{device}: «{channel}» қосалқы кірісі бапталғандай өшірулі",
                                "ru": "{device}: резервный вход «{channel}» выключен, как настроено",
                                "en": "{device}: spare input “{channel}” is muted as configured"},
    "dsp.channel.muted": {"kk": "{device}: «{channel}» микрофонының дыбысы өшірулі",
                          "ru": "{device}: микрофон «{channel}» выключен",
                          "en": "{device}: microphone “{channel}” is muted"},
    "dsp.channel.unmuted": {"kk": "{device}: «{channel}» қосалқы кірісі өшірілмеген",
                            "ru": "{device}: резервный вход «{channel}» не выключен",
                            "en": "{device}: spare input “{channel}” should be muted"},
    "dsp.channel.no_meter": {"kk": "{device}: «{channel}» микрофонының деңгейі өлшенбеді",
                             "ru": "{device}: нет показаний уровня микрофона «{channel}»",
                             "en": "{device}: no level readings from microphone “{channel}”"},
    "dsp.channel.clipping": {"kk": "{device}: «{channel}» микрофонының дыбысы шамадан тыс қатты "
                                   "(ең жоғары деңгей {peak_db} дБ)",
                             "ru": "{device}: перегрузка микрофона «{channel}» (пик {peak_db} дБ)",
                             "en": "{device}: microphone “{channel}” is clipping (peak {peak_db} dB)"},
    "dsp.channel.dead": {"kk": "{device}: «{channel}» микрофонынан {seconds} с ішінде сигнал болмады "
                               "(ең жоғары деңгей {peak_db} дБ)",
                         "ru": "{device}: нет сигнала с микрофона «{channel}» за {seconds} с (пик {peak_db} дБ)",
                         "en": "{device}: no signal from microphone “{channel}” in {seconds} s (peak {peak_db} dB)"},

    # -- the call, the test session, the self-test, the room -----------------------------------------
    "call.dropped": {"kk": "Қарсы тараппен («{far_side}») байланыс үзілді",
                     "ru": "Связь с дальней стороной («{far_side}») прервалась",
                     "en": "The call with the far side (“{far_side}”) dropped"},
    "call.no_answer": {"kk": "Қарсы тарап («{far_side}») {seconds} с ішінде жауап бермеді",
                       "ru": "Дальняя сторона («{far_side}») не ответила за {seconds} с",
                       "en": "The far side (“{far_side}”) did not answer within {seconds} s"},
    "call.not_placed": {"kk": "Қарсы тарапқа («{far_side}») қоңырау шалынбады: кодек қоңырауды бастай алмады",
                        "ru": "Вызов дальней стороны («{far_side}») не выполнен: кодек не смог его начать",
                        "en": "The call to the far side (“{far_side}”) was not placed: the codec could not start it"},
    # -- link quality during the call (item 22) -----------------------------------------------------
    "call.quality.ok": {"kk": "{device}: байланыс сапасы қалыпты", "ru": "{device}: качество связи в норме",
                        "en": "{device}: call quality is normal"},
    "call.quality.loss": {"kk": "{device}: қарсы тараптан келетін пакеттердің {rx_loss_pct}% жоғалады "
                                "(шегі {limit}%)",
                          "ru": "{device}: теряется {rx_loss_pct}% пакетов от дальней стороны (предел {limit}%)",
                          "en": "{device}: {rx_loss_pct}% of packets from the far side are lost (limit {limit}%)"},
    "call.quality.jitter": {"kk": "{device}: байланыс дірілі {jitter_ms} мс (шегі {limit} мс)",
                            "ru": "{device}: джиттер связи {jitter_ms} мс (предел {limit} мс)",
                            "en": "{device}: call jitter is {jitter_ms} ms (limit {limit} ms)"},
    "call.quality.fps": {"kk": "{device}: қарсы тараптың бейнесі секундына {rx_fps} кадрмен келеді "
                               "(кемінде {limit})",
                         "ru": "{device}: изображение дальней стороны приходит с частотой {rx_fps} кадр/с "
                               "(не менее {limit})",
                         "en": "{device}: the far side's picture arrives at {rx_fps} frames/s (at least {limit})"},
    "call.quality.rate": {"kk": "{device}: келетін ағын келісілген жылдамдықтың {rate_ratio} үлесі ғана "
                                "(кемінде {limit})",
                          "ru": "{device}: входящий поток — лишь {rate_ratio} от согласованной скорости "
                                "(не менее {limit})",
                          "en": "{device}: the incoming stream is only {rate_ratio} of the agreed rate "
                                "(at least {limit})"},
    "call.quality.sound": {"kk": "{device}: қарсы тараптың дыбысы келмейді",
                           "ru": "{device}: звук дальней стороны не поступает",
                           "en": "{device}: no sound arrives from the far side"},
    "test_session.missing": {
        "kk": "{case} ісі бойынша отырысқа дейін {hours} сағат қалды, тестілеу сеансы өткізілмеген",
        "ru": "До заседания по делу {case} осталось {hours} ч, тестовый сеанс не проведён",
        "en": "{hours} h before the hearing in case {case} and no passed test session"},
    "selftest.failed": {"kk": "Отырыс алдындағы өзін-өзі тексеруден өтпеді: ақаулы құрылғылар саны {count}",
                        "ru": "Самопроверка перед заседанием не пройдена: неисправных устройств {count}",
                        "en": "The pre-hearing self-test failed: {count} device(s) at fault"},
    "room.suspended": {"kk": "Бейнеконференцбайланыс тоқтатыла тұрды: {reason}", "ru": "ВКС приостановлена: {reason}",
                       "en": "VKS suspended: {reason}"},
    "room.busy": {"kk": "Тексеру қазір мүмкін емес: {reason}", "ru": "Проверка сейчас невозможна: {reason}",
                  "en": "Cannot test now: {reason}"},
    "room.testing": {"kk": "өзін-өзі тексеру жүріп жатыр", "ru": "идёт самопроверка", "en": "a self-test is running"},

    # -- the alarm's life (the technician's marks, rule item 17) ---------------------------------------
    "alarm.state.open": {"kk": "Жаңа", "ru": "Новая", "en": "New"},
    "alarm.state.fixing": {"kk": "Жойылуда", "ru": "Устраняется", "en": "Being fixed"},
    "alarm.state.fixed": {"kk": "Жойылды", "ru": "Устранена", "en": "Fixed"},
    "alarm.state.cannot_be_fixed": {"kk": "Жою мүмкін емес", "ru": "Устранить невозможно", "en": "Cannot be fixed"},
    "alarm.state.recovered": {"kk": "Жұмысы өздігінен қалпына келді", "ru": "Работа восстановилась сама",
                              "en": "Recovered by itself"},
    "alarm.state.cleared": {"kk": "Алынып тасталды", "ru": "Снята", "en": "Cleared"},
    # why an alarm closed by itself (alarm.cleared's reason)
    "alarm.closed.recovered": {"kk": "Құрылғы қайтадан тексеруден өтеді", "ru": "Устройство снова проходит проверку",
                               "en": "The device passes the check again"},
    "alarm.closed.session_passed": {"kk": "Тестілеу сеансы сәтті өтті", "ru": "Тестовый сеанс проведён успешно",
                                    "en": "A test session passed"},
    "alarm.closed.moved": {"kk": "Сот отырысы басқа уақытқа ауыстырылды", "ru": "Заседание перенесено",
                           "en": "The hearing was moved"},
    "alarm.closed.answered": {"kk": "Қарсы тарап жауап берді", "ru": "Дальняя сторона ответила",
                              "en": "The far side answered"},

    # -- what was done about it (the act's measures, rule item 18) --------------------------------------
    "first_aid.power_off": {"kk": "{device}: қуаты реле арқылы ажыратылды", "ru": "{device}: питание отключено реле",
                            "en": "{device}: power cut by the relay"},
    "first_aid.power_on": {"kk": "{device}: қуаты қайта қосылды", "ru": "{device}: питание включено снова",
                           "en": "{device}: power restored"},
    "first_aid.worked": {"kk": "{device}: қуатты қайта қосқаннан кейін қайта жауап береді",
                         "ru": "{device}: после перезапуска питания снова отвечает",
                         "en": "{device}: answers again after the power cycle"},
    "first_aid.failed": {"kk": "{device}: қуатты қайта қосу көмектеспеді", "ru": "{device}: перезапуск питания не помог",
                         "en": "{device}: the power cycle did not help"},
    "connection.not_placed": {"kk": "Қарсы тарапқа қоңырау шалынбады: кодек қоңырауды бастай алмады",
                              "ru": "Вызов дальней стороны не выполнен: кодек не смог его начать",
                              "en": "The call to the far side was not placed: the codec could not start it"},
    "connection.failed": {"kk": "Қарсы тарап қоңырауға жауап бермеді", "ru": "Дальняя сторона не ответила на вызов",
                          "en": "The far side did not answer the call"},
    "reconnect.started": {"kk": "Қарсы тарапқа қайта қосылу басталды", "ru": "Начато переподключение к дальней стороне",
                          "en": "Reconnecting to the far side started"},
    "reconnect.done": {"kk": "Қарсы тараппен байланыс қайта орнатылды",
                       "ru": "Соединение с дальней стороной восстановлено",
                       "en": "The connection to the far side was re-established"},
    "call.far_picture.ok": {"kk": "{device}: қарсы тараптың бейнесі жарамды",
                            "ru": "{device}: изображение дальней стороны в норме",
                            "en": "{device}: the far side's picture is fine"},
    "call.far_picture.black": {"kk": "{device}: қарсы тараптың бейнесі қара",
                               "ru": "{device}: изображение дальней стороны чёрное",
                               "en": "{device}: the far side's picture is black"},
    "call.far_picture.frozen": {"kk": "{device}: қарсы тараптың бейнесі қатып қалды",
                                "ru": "{device}: изображение дальней стороны застыло",
                                "en": "{device}: the far side's picture is frozen"},
    "call.far_picture.blur": {"kk": "{device}: қарсы тараптың бейнесі бұлыңғыр",
                              "ru": "{device}: изображение дальней стороны размыто",
                              "en": "{device}: the far side's picture is blurred"},
    "call.far_picture.blocky": {"kk": "{device}: қарсы тараптың бейнесі шаршыларға бөлініп кетті",
                                "ru": "{device}: изображение дальней стороны рассыпается на квадраты",
                                "en": "{device}: the far side's picture breaks into blocks"},
    "call.far_sound.ok": {"kk": "{device}: қарсы тараптың дыбысы естіледі",
                          "ru": "{device}: звук дальней стороны слышен",
                          "en": "{device}: the far side can be heard"},
    "call.far_sound.silent": {"kk": "{device}: қарсы тараптан дыбыс келмейді (деңгейі {level_db} дБ)",
                              "ru": "{device}: от дальней стороны нет звука (уровень {level_db} дБ)",
                              "en": "{device}: no sound from the far side (level {level_db} dB)"},
    "quality.after_reconnect": {"kk": "Қайта қосылғаннан кейінгі байланыс сапасы өлшенді",
                                "ru": "Измерено качество связи после переподключения",
                                "en": "Call quality measured after reconnecting"},
    "call.quality.figures": {"kk": "жоғалған пакеттер {rx_loss_pct}%, діріл {jitter_ms} мс, "
                                   "секундына {rx_fps} кадр",
                             "ru": "потери пакетов {rx_loss_pct}%, джиттер {jitter_ms} мс, {rx_fps} кадр/с",
                             "en": "packet loss {rx_loss_pct}%, jitter {jitter_ms} ms, {rx_fps} frames/s"},
    "selftest.repeat": {"kk": "Өзін-өзі тексеру қайталанды", "ru": "Самопроверка проведена повторно",
                        "en": "The self-test was repeated"},
    "fault.marked": {"kk": "Ақаулық туралы белгі: «{mark}» ({who})", "ru": "Отметка о неисправности: «{mark}» ({who})",
                     "en": "Fault marked “{mark}” ({who})"},

    # -- the hearing record (rule item 21): its other rows, and the columns of its CSV ---------------
    "hearing.started": {"kk": "Сот отырысы басталды", "ru": "Заседание началось", "en": "The hearing started"},
    "connection.dialling": {"kk": "Қарсы тарапқа қоңырау шалынуда", "ru": "Вызов дальней стороны",
                            "en": "Calling the far side"},
    "connection.started": {"kk": "Қарсы тараппен байланыс орнатылды", "ru": "Соединение с дальней стороной установлено",
                           "en": "Connected to the far side"},
    "connection.ended": {"kk": "Қарсы тараппен байланыс аяқталды", "ru": "Соединение с дальней стороной завершено",
                         "en": "The connection to the far side ended"},
    "break.recommended": {"kk": "Байланыс сапасы нашарлады: техникалық үзіліс ұсынылды",
                          "ru": "Качество связи ухудшилось: рекомендован технический перерыв",
                          "en": "The call quality dropped: a technical break was recommended"},
    "quality.restored": {"kk": "Байланыс сапасы қалпына келді", "ru": "Качество связи восстановилось",
                         "en": "The call quality recovered"},
    "hearing.ended": {"kk": "Сот отырысы аяқталды", "ru": "Заседание окончено", "en": "The hearing ended"},
    "hearing.end.scheduled": {"kk": "Сот отырысы аяқталды: белгіленген уақыты бітті",
                              "ru": "Заседание окончено: назначенное время истекло",
                              "en": "The hearing ended: its scheduled time is over"},
    "hearing.end.secretary": {"kk": "Сот отырысын хатшы аяқтады", "ru": "Заседание окончено секретарём",
                              "en": "The secretary ended the hearing"},
    "hearing.end.cancelled": {"kk": "Сот отырысы болдырылмады", "ru": "Заседание отменено",
                              "en": "The hearing was cancelled"},
    "connection.end.hearing": {"kk": "Сот отырысы аяқталғандықтан байланыс аяқталды",
                               "ru": "Соединение завершено, так как заседание окончено",
                               "en": "The call ended because the hearing ended"},
    "connection.end.reconnect": {"kk": "Қайта қосылу үшін байланыс аяқталды",
                                 "ru": "Соединение завершено для переподключения",
                                 "en": "The call was ended to reconnect"},
    "record.column.at_utc": {"kk": "Уақыты (Гринвич бойынша)", "ru": "Время (по Гринвичу)", "en": "Time (UTC)"},
    "record.column.at_local": {"kk": "Уақыты (сот уақыты)", "ru": "Время (по времени суда)",
                               "en": "Time (court time)"},
    "record.column.event": {"kk": "Оқиға", "ru": "Событие", "en": "Event"},
    "record.column.who": {"kk": "Кім", "ru": "Кто", "en": "Who"},
    "record.column.detail": {"kk": "Толығырақ", "ru": "Подробности", "en": "Detail"},
    "record.column.code": {"kk": "Оқиға коды", "ru": "Код события", "en": "Event code"},

    # -- refusals: what the room answers when an action cannot be done now (Refused) -------------
    "refused.failed": {"kk": "Әрекет қазір орындалмады", "ru": "Действие сейчас не выполнено",
                       "en": "The action could not be done now"},
    "refused.no_hearing": {"kk": "Мұндай сот отырысы кестеде жоқ", "ru": "Такого заседания нет в расписании",
                           "en": "There is no such hearing in the schedule"},
    "refused.hearing_cancelled": {"kk": "Сот отырысы болдырылмады", "ru": "Заседание отменено",
                                  "en": "The hearing was cancelled"},
    "refused.no_codec": {"kk": "Бұл залда қоңырау шалатын кодек жоқ", "ru": "В этом зале нет кодека для вызова",
                         "en": "This room has no codec to call with"},
    "refused.call_in_progress": {"kk": "Қоңырау орнатылып жатыр: күте тұрыңыз",
                                 "ru": "Вызов уже устанавливается: подождите", "en": "A call is being set up: wait for it"},
    "refused.already_connected": {"kk": "Байланыс орнатылған", "ru": "Соединение уже установлено",
                                  "en": "The call is already connected"},
    "refused.not_under_way": {"kk": "Сот отырысы жүріп жатқан жоқ: алдымен байланыс орнатыңыз",
                              "ru": "Заседание не идёт: сначала установите соединение",
                              "en": "The hearing is not under way: connect it first"},
    "refused.suspended": {"kk": "Бейнеконференцбайланыс тоқтатыла тұрған: тексеру мен қоңырау мүмкін емес",
                          "ru": "ВКС приостановлена: проверки и вызовы невозможны",
                          "en": "VKS is suspended: no tests or calls"},
    "refused.in_hearing": {"kk": "Сот отырысы жүріп жатыр: өзін-өзі тексеру камераларды қозғалтады; құрылғылар "
                                 "үздіксіз бақылануда",
                           "ru": "Идёт заседание: самопроверка сдвинула бы камеры; оборудование и так "
                                 "контролируется непрерывно",
                           "en": "A hearing is under way: a self-test would move its cameras; the devices are "
                                 "watched all the time"},
    "refused.session_running": {"kk": "Сынақ сеансы әлі жүріп жатыр", "ru": "Тестовый сеанс ещё идёт",
                                "en": "A test session is still running"},
    "refused.act_needs_reason": {"kk": "Бұл сот отырысы үшін техникалық ақаулық тіркелмеген: актінің себебін жазыңыз",
                                 "ru": "Техническая неисправность для этого заседания не зафиксирована: укажите "
                                       "причину составления акта",
                                 "en": "No technical fault is recorded for this hearing: write the reason for the act"},
    "refused.text_too_long": {"kk": "Мәтін тым ұзын", "ru": "Текст слишком длинный", "en": "The text is too long"},
    "refused.no_alarm": {"kk": "Мұндай дабыл жоқ", "ru": "Такой тревоги нет", "en": "There is no such alarm"},
    "refused.alarm_closed": {"kk": "Дабыл жабылған", "ru": "Тревога уже закрыта", "en": "The alarm is already closed"},
    "refused.bad_mark": {"kk": "Белгі белгісіз", "ru": "Неизвестная отметка", "en": "Unknown mark"},
    "refused.technician": {"kk": "Сынақ сеансын кім өткізетінін көрсетіңіз (техникалық маман)",
                           "ru": "Укажите, кто проводит тестовый сеанс (технический специалист)",
                           "en": "Say who runs the test session (the technician)"},
    "refused.who": {"kk": "Кім белгі қоятынын көрсетіңіз", "ru": "Укажите, кто ставит отметку",
                    "en": "Say who marks the fault"},
    "refused.unknown_command": {"kk": "Мұндай команда жоқ", "ru": "Такой команды нет",
                                "en": "There is no such command"},
    "refused.arg_type": {"kk": "«{field}» өрісі мынадай болуы керек: {kind}",
                         "ru": "Поле «{field}» должно быть: {kind}", "en": "Field “{field}” must be: {kind}"},
    "refused.arg_missing": {"kk": "«{field}» өрісі көрсетілмеген", "ru": "Не указано поле «{field}»",
                            "en": "Field “{field}” is missing"},
    "refused.arg_unknown": {"kk": "«{field}» өрісі бұл командада жоқ", "ru": "У этой команды нет поля «{field}»",
                            "en": "This command has no field “{field}”"},
    "refused.arg_empty": {"kk": "«{field}» өрісі толтырылмаған", "ru": "Поле «{field}» не заполнено",
                          "en": "Field “{field}” is empty"},
    "refused.arg_too_long": {"kk": "«{field}» өрісі {max} таңбадан ұзын", "ru": "Поле «{field}» длиннее {max} символов",
                             "en": "Field “{field}” is longer than {max} characters"},
    "refused.arg_too_many": {"kk": "«{field}» өрісінде {max} элементтен көп", "ru": "В поле «{field}» больше {max} элементов",
                             "en": "Field “{field}” has more than {max} items"},
    "refused.arg_characters": {"kk": "«{field}» өрісінде рұқсат етілмеген таңбалар бар",
                               "ru": "Поле «{field}» содержит недопустимые символы",
                               "en": "Field “{field}” contains characters that are not allowed"},
    "refused.arg_format": {"kk": "«{field}» өрісінің пішімі қате", "ru": "Поле «{field}» имеет неверный формат",
                           "en": "Field “{field}” is not in the right format"},
    "refused.arg_range": {"kk": "«{field}» өрісі {min} мен {max} аралығында болуы керек",
                          "ru": "Поле «{field}» должно быть от {min} до {max}",
                          "en": "Field “{field}” must be from {min} to {max}"},
    "refused.arg_choice": {"kk": "«{field}» өрісінің рұқсат етілген мәндері: {choices}",
                           "ru": "Допустимые значения поля «{field}»: {choices}",
                           "en": "Field “{field}” must be one of: {choices}"},
    "kind.text": {"kk": "мәтін", "ru": "текст", "en": "text"},
    "kind.integer": {"kk": "бүтін сан", "ru": "целое число", "en": "a whole number"},
    "kind.number": {"kk": "сан", "ru": "число", "en": "a number"},
    "kind.list": {"kk": "тізім", "ru": "список", "en": "a list"},
    "kind.object": {"kk": "объект", "ru": "объект", "en": "an object"},
    "kind.or": {"kk": " немесе ", "ru": " или ", "en": " or "},
    "staff.secretary": {"kk": "Сот отырысының хатшысы", "ru": "Секретарь судебного заседания", "en": "Secretary"},
    "staff.technician": {"kk": "Техникалық маман", "ru": "Технический специалист", "en": "Technician"},
    "staff.head_of_chancellery": {"kk": "Кеңсе меңгерушісі", "ru": "Заведующий канцелярией",
                                  "en": "Head of chancellery"},
    "staff.administrator": {"kk": "Әкімші", "ru": "Администратор", "en": "Administrator"},
    "staff.centre": {"kk": "Орталық жоспарлаушы", "ru": "Центральный планировщик", "en": "Central scheduler"},
    "who.panel": {"kk": "зал панелі", "ru": "панель зала", "en": "the room panel"},
    "session.devices": {"kk": "Құрылғылар дайын емес: {reasons}", "ru": "Оборудование не готово: {reasons}",
                        "en": "The devices are not ready: {reasons}"},
    "session.restarted": {"kk": "Тестілеу сеансы кезінде зал контроллері қайта іске қосылды",
                          "ru": "Контроллер зала перезапустился во время тестового сеанса",
                          "en": "The room controller restarted during the test session"},
    "session.not_checked": {"kk": "Құрылғылар тексерілмеді", "ru": "Оборудование не проверено",
                            "en": "The devices were not checked"},
    "session.not_called": {"kk": "Сынақ қоңырауы жасалмады", "ru": "Тестовый вызов не выполнен",
                           "en": "The test call was not made"},
    "session.no_answer": {"kk": "Қарсы тарап сынақ қоңырауына жауап бермеді",
                          "ru": "Дальняя сторона не ответила на тестовый вызов",
                          "en": "The far side did not answer the test call"},
    "refused.unreadable": {"kk": "Зал команданы оқи алмады", "ru": "Зал не смог прочитать команду",
                           "en": "The room could not read the command"},
    "refused.contract_version": {"kk": "Команда бұл зал қабылдамайтын келісім нұсқасымен жазылған",
                                 "ru": "Команда составлена по версии протокола, которую этот зал не принимает",
                                 "en": "The command is written for a contract version this room does not take"},
    "refused.other_room": {"kk": "Команда басқа залға жіберілген", "ru": "Команда адресована другому залу",
                           "en": "The command is addressed to another room"},
    "refused.expired": {"kk": "Команданың мерзімі залға жеткенге дейін өтіп кетті",
                        "ru": "Срок действия команды истёк до того, как она дошла до зала",
                        "en": "The command expired before it reached the room"},
    "refused.busy": {"kk": "Зал бос емес (кезектегі командалар: {count}): бұл команданы кейінірек қайта жіберіңіз",
                     "ru": "Зал занят (команд в очереди: {count}): отправьте эту команду позже",
                     "en": "The room is busy: {count} commands are waiting; send this one again later"},
    "refused.outcome_unknown": {"kk": "Команда орындалып жатқанда зал қайта іске қосылды, нәтижесі белгісіз: залдың "
                                      "күйін тексеріп, команданы жаңа сұраныс нөмірімен қайта жіберіңіз",
                                "ru": "Зал перезапустился во время выполнения команды, её результат неизвестен: "
                                      "проверьте состояние зала и отправьте команду снова с новым номером запроса",
                                "en": "The room restarted while the command was running, so its outcome is unknown: "
                                      "check the room's status and send it again with a new request id"},
    "refused.no_act": {"kk": "Мұндай акт жоқ", "ru": "Такого акта нет", "en": "There is no such act"},
    "refused.act_printed": {"kk": "Акт басып шығарылған: өзгерту үшін жаңа акт жасаңыз",
                            "ru": "Акт уже напечатан: чтобы изменить его, составьте новый акт",
                            "en": "The act is printed: draw up a new act to change it"},
    "refused.act_editor": {"kk": "Актіні кім өзгертетінін көрсетіңіз", "ru": "Укажите, кто изменяет акт",
                           "en": "Say who changes the act"},
    "refused.act_empty": {"kk": "Актінің мәтіні бос болмауы керек", "ru": "Текст акта не может быть пустым",
                          "en": "The act's text may not be empty"},
    "refused.act_languages": {"kk": "Акт қазақ және орыс тілдерінде ғана жасалады",
                              "ru": "Акт составляется только на казахском и русском языках",
                              "en": "The act is kept in Kazakh and Russian only"},
    "refused.act_pdf": {"kk": "Зал контроллері актіні басып шығаруға дайындай алмайды: техникалық маманға хабарлаңыз",
                        "ru": "Контроллер зала не может подготовить акт к печати: сообщите техническому специалисту",
                        "en": "The room controller cannot prepare the act for printing: tell the technician"},
    "refused.still_failing": {"kk": "«Жойылды» деп белгілеуге болмайды: {device} әлі де ақаулы",
                              "ru": "Нельзя отметить «устранено»: {device} всё ещё неисправно",
                              "en": "Cannot mark it fixed: {device} still fails"},
}

# The hearing day guide, the suspension banner and the protocol mark (controller/guide*.py).
from vksroom.controller.guide_texts import GUIDE as _GUIDE  # noqa: E402

CATALOGUE.update(_GUIDE)

# Why the schedule refused a hearing message (controller/schedule.py).
from vksroom.controller.schedule_texts import SCHEDULE as _SCHEDULE  # noqa: E402

CATALOGUE.update(_SCHEDULE)

# Codes that say what another code says (one sentence, many codes).
ALIASES = {
    "camera.unreachable": "device.unreachable",
    "codec.unreachable": "device.unreachable",
    "dsp.unreachable": "device.unreachable",
    "camera.reachable": "device.answers",
    "codec.reachable": "device.answers",
    "dsp.reachable": "device.answers",
    "codec.link": "device.line_clean",
    "dsp.link": "device.line_clean",
    "codec.link_noise": "device.line_noise",
    "dsp.link_noise": "device.line_noise",
}

# The measures an act lists (Lifecycle.facts()["tried"][i]["action"]).
MEASURES = ("first_aid.power_off", "first_aid.power_on", "first_aid.worked", "first_aid.failed",
            "connection.failed", "connection.not_placed", "reconnect.started", "reconnect.done",
            "quality.after_reconnect", "selftest.repeat", "fault.marked")
ALARM_STATES = ("open", "fixing", "fixed", "cannot_be_fixed", "recovered", "cleared")



class Refused(ValueError):
    """An action the room will not do now, said by a code (``refused.*``) and parameters.
    ``str()`` is the English sentence (for logs and MQTT replies); people read :meth:`say`."""

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(say(code, params, "en"))

    def say(self, lang: str | None = None) -> str:
        return say(self.code, self.params, lang)


_FORMATTER = string.Formatter()
_warned: set = set()
_warned_lock = threading.Lock()


def set_default_language(lang: str) -> None:
    """The room's language: what ``reason`` fields say (the panel's default, from the config)."""
    global DEFAULT_LANG
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, got {lang!r}")
    DEFAULT_LANG = lang


def known(code: str) -> bool:
    return ALIASES.get(code, code) in CATALOGUE


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in _FORMATTER.parse(text) if name}


def _warn_once(what: str, code: str) -> None:
    with _warned_lock:
        if (what, code) in _warned:
            return
        _warned.add((what, code))
    log.warning("texts: %s %r: saying a generic sentence instead", what, code)


def pick(label, lang: str) -> str:
    """A label in ``lang``: a string as it is; a {kk, ru, en} table in that language (else ru, en)."""
    if isinstance(label, dict):
        return str(label.get(lang) or label.get("ru") or label.get("en") or next(iter(label.values()), ""))
    return "" if label is None else str(label)


def number(value, lang: str) -> str:
    """A number for people: whole numbers plainly, others to one decimal (a comma in kk and ru)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float):
        value = round(value, 1)
        if value == int(value):
            value = int(value)
    text = str(value)
    return text.replace(".", ",") if lang in ("kk", "ru") else text


def _value(value, lang: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value, lang)
    return pick(value, lang)          # a label: a string, or a table in three languages


def _generic(params: dict, lang: str, ok: bool) -> str:
    base = "generic.ok" if ok else "generic.fault"
    if params.get("device"):
        return CATALOGUE[base][lang].format(device=_value(params["device"], lang))
    return CATALOGUE[base + ".plain"][lang]


def say(code: str, params: dict | None = None, lang: str | None = None, ok: bool = False) -> str:
    """The sentence for ``code`` in ``lang`` (default: the room's), its parameters filled in.
    ``ok`` chooses the generic sentence said for an unknown code (a pass or a fault)."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    params = params or {}
    entry = CATALOGUE.get(ALIASES.get(code, code))
    if entry is None:
        _warn_once("unknown code", code)
        return _generic(params, lang, ok)
    template = entry.get(lang) or entry["ru"]
    names = placeholders(template)
    missing = [n for n in names if params.get(n) in (None, "")]
    if missing:
        _warn_once(f"no {', '.join(sorted(missing))} for", code)
        return _generic(params, lang, ok)
    return template.format(**{n: _value(params[n], lang) for n in names})


REFERENCE_WORDS = {"stored": "camera.video.by_stored", "learned": "camera.video.by_learned",
                   "none": "camera.video.by_none"}


def say_where(code: str, params: dict | None = None, lang: str | None = None) -> str:
    """What one alarm says: the sentence, and the preset it was found at when the sentence does
    not name it (a black picture at each of six presets is six alarms; said alike, an act would
    list six identical lines); for a picture judged during a hearing at a preset or moved off
    them (``reference``), what it was compared with."""
    params = params or {}
    sentence = say(code, params, lang)
    entry = CATALOGUE.get(ALIASES.get(code, code))
    template = entry.get(lang or DEFAULT_LANG) or entry["ru"] if entry else ""
    if params.get("role") and template and "role" not in placeholders(template):
        sentence = say("camera.video.at_preset", {"sentence": sentence, "role": params["role"]}, lang)
    if params.get("reference") in REFERENCE_WORDS and (params.get("role") or params.get("off_preset")):
        words = REFERENCE_WORDS[params["reference"]] if params.get("role") else "camera.video.off_preset"
        sentence = say(words, {"sentence": sentence, "time": params.get("learned_at")}, lang)
    return sentence


def texts(code: str, params: dict | None = None, ok: bool = False) -> dict[str, str]:
    """The sentence in every language: {"kk", "ru", "en"}."""
    return {lang: say(code, params, lang, ok) for lang in LANGS}


def label_texts(label) -> dict[str, str]:
    """A label as a {kk, ru, en} table (a plain string stands for all three)."""
    return {lang: pick(label, lang) for lang in LANGS}


def default_label(kind: str, n: int | None = None) -> dict[str, str]:
    """A readable name for a device the config gives no label: by its kind and, where the room
    has several of that kind, its position ("Камера 2" / "2-камера"); never its id."""
    base = f"label.{kind}" if f"label.{kind}" in CATALOGUE else "label.device"
    if n is None:
        return dict(CATALOGUE[base])
    return texts(base + ".n", {"n": n})


def state_word(state: str) -> dict[str, str]:
    """An alarm state's word (open, fixing, fixed, cannot_be_fixed, recovered, cleared) in three languages."""
    return texts("alarm.state." + state)


# Who acted, as the room log keeps it, where it is a key and not a person's name: the panel with
# no users configured (web/auth.py), the centre and staff roles (vks.suspend's ``by``).
PANEL = "panel"
PEOPLE = {PANEL: "who.panel", "centre": "staff.centre", "secretary": "staff.secretary",
          "technician": "staff.technician", "head_of_chancellery": "staff.head_of_chancellery",
          "administrator": "staff.administrator"}


def person(who):
    """Who acted, for people: a key of :data:`PEOPLE` as its words in three languages; a name
    (a panel user's, the centre's ``who``) as it was given."""
    code = PEOPLE.get(who) if isinstance(who, str) else None
    return dict(CATALOGUE[code]) if code else who


def role_label(role: str) -> dict[str, str] | str:
    """A camera role's name in three languages; a role the catalogue does not know stays as the
    config names it (the technician's own word)."""
    entry = CATALOGUE.get(f"role.{role}")
    return dict(entry) if entry else role
