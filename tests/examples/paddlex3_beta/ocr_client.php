<?php
// Source: PaddleX 3.0-beta general OCR pipeline tutorial (English), section 3, "Multi-Language
// Service Invocation Examples" -> PHP (originals/004_365c25cf5dce7b3f.txt, lines 693-715).
// CURLOPT_POSTFIELDS with a string sends the JSON as application/x-www-form-urlencoded.
// This header is its own PHP block, closed at the end of its marker line, above the published code.
// When tests/e2e/test_client_examples.py runs it, it changes only:
//   - the URL "http://localhost:8080/ocr" -> the test server's http://127.0.0.1:<port>/ocr
//   - the file name "./demo.jpg" -> the sample image scenes/s01_sign_zh_en.png
// Everything below the marker line is the published code, unchanged.
// --- the example as published starts below --- ?>
<?php

$API_URL = "http://localhost:8080/ocr";
$image_path = "./demo.jpg";
$output_image_path = "./out.jpg";

$image_data = base64_encode(file_get_contents($image_path));
$payload = array("image" => $image_data);

$ch = curl_init($API_URL);
curl_setopt($ch, CURLOPT_POST, true);
curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($payload));
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
$response = curl_exec($ch);
curl_close($ch);

$result = json_decode($response, true)["result"];
file_put_contents($output_image_path, base64_decode($result["image"]));
echo "Output image saved at " . $output_image_path . "\n";
echo "\nDetected texts:\n";
print_r($result["texts"]);

?>
